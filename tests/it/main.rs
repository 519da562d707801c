mod github_runtime;
