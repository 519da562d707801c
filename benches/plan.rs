//! Reading Microsoft's 4.3 MB service tags file, selecting tags and planning.
//!
//! Reads `ServiceTags_Public_20251103.json` from the shared fixtures folder (or
//! `IPSYNC_FIXTURES_DIR`); without it the benchmark prints that it skips.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use ipsync::databricks::{AccessList, ListType};
use ipsync::plan::{self, Overrides, PlanInput, PlanSource};
use ipsync::service_tags::{self, Cloud, ServiceTagsFile, SourceMeta};

const FILE: &str = "ServiceTags_Public_20251103.json";

fn fixture() -> Option<PathBuf> {
    let root = std::env::var_os("IPSYNC_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    let path = root.join("service-tags").join(FILE);
    path.is_file().then_some(path)
}

fn live_list(entries: Vec<String>) -> AccessList {
    AccessList {
        list_id: "bench".to_owned(),
        label: "AzureActiveDirectory".to_owned(),
        list_type: ListType::Allow,
        ip_addresses: entries,
        address_count: None,
        enabled: true,
        created_at: None,
        created_by: None,
        updated_at: None,
        updated_by: None,
    }
}

fn read_select_plan(
    bytes: &[u8],
    meta: &SourceMeta,
    tags: &[String],
    lists: &[AccessList],
) -> usize {
    let file = ServiceTagsFile::parse(bytes, meta).unwrap();
    let selection = service_tags::select(&file, meta, Cloud::Public, tags).unwrap();
    let plan = plan::compute(PlanInput {
        scope: "workspace".to_owned(),
        host: "https://adb-1.azuredatabricks.net".to_owned(),
        account_id: None,
        label: "AzureActiveDirectory".to_owned(),
        list_id: None,
        source: PlanSource {
            cloud: "Public".to_owned(),
            file_name: selection.file_name.clone(),
            url: None,
            sha256: selection.sha256.clone(),
            change_number: selection.change_number,
            tags: Vec::new(),
            include: Vec::new(),
        },
        desired: selection.desired_prefixes(),
        dropped_ipv6: Vec::new(),
        live_lists: lists,
        overrides: Overrides::default(),
        created_at: String::new(),
    })
    .unwrap();
    plan.after.len()
}

fn bench(criterion: &mut Criterion) {
    let Some(path) = fixture() else {
        eprintln!("skipping: fixture `{FILE}` not found (set IPSYNC_FIXTURES_DIR)");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let meta = SourceMeta::for_file(&path, &bytes);
    let lists = [live_list(vec![
        "20.190.128.0/18".to_owned(),
        "198.51.100.0/24".to_owned(),
    ])];

    let one_tag = vec!["AzureActiveDirectory".to_owned()];
    criterion.bench_function("read_select_plan_aad", |bencher| {
        bencher.iter(|| read_select_plan(black_box(&bytes), &meta, &one_tag, &lists))
    });

    let two_tags = vec![
        "AzureActiveDirectory".to_owned(),
        "AzureDatabricks".to_owned(),
    ];
    criterion.bench_function("read_select_plan_aad_databricks", |bencher| {
        bencher.iter(|| read_select_plan(black_box(&bytes), &meta, &two_tags, &lists))
    });

    criterion.bench_function("parse_only", |bencher| {
        bencher.iter(|| {
            ServiceTagsFile::parse(black_box(&bytes), &meta)
                .unwrap()
                .values
                .len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
