use super::*;

fn prefixes(texts: &[&str]) -> Vec<Ipv4Prefix> {
    texts.iter().map(|text| text.parse().unwrap()).collect()
}

fn texts(prefixes: &[Ipv4Prefix]) -> Vec<String> {
    prefixes.iter().map(ToString::to_string).collect()
}

fn list(list_id: &str, label: &str, list_type: ListType, entries: &[&str]) -> AccessList {
    AccessList {
        list_id: list_id.to_owned(),
        label: label.to_owned(),
        list_type,
        ip_addresses: entries.iter().map(|entry| (*entry).to_owned()).collect(),
        address_count: Some(entries.len() as u32),
        enabled: true,
        created_at: None,
        created_by: None,
        updated_at: None,
        updated_by: None,
    }
}

fn source(tags: &[(&str, u64)], include: &[&str]) -> PlanSource {
    PlanSource {
        cloud: "Public".to_owned(),
        file_name: "ServiceTags_Public_20251103.json".to_owned(),
        url: None,
        sha256: "0".repeat(64),
        change_number: 376,
        tags: tags
            .iter()
            .map(|(name, change_number)| PlanTag {
                name: (*name).to_owned(),
                change_number: *change_number,
                ipv4_count: 0,
                ipv6_count: 0,
            })
            .collect(),
        include: prefixes(include),
    }
}

fn input<'a>(desired: &[&str], live_lists: &'a [AccessList]) -> PlanInput<'a> {
    PlanInput {
        scope: "workspace".to_owned(),
        host: "https://adb-1.azuredatabricks.net".to_owned(),
        account_id: None,
        label: "AzureActiveDirectory".to_owned(),
        list_id: None,
        source: source(&[("AzureActiveDirectory", 26)], &[]),
        desired: prefixes(desired),
        dropped_ipv6: Vec::new(),
        live_lists,
        overrides: Overrides::default(),
        created_at: "2026-12-04T00:00:00Z".to_owned(),
    }
}

#[test]
fn compute_adds_and_removes_by_prefix() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24", "192.0.2.1", "198.51.100.0/24"],
    )];

    let plan = compute(input(
        &["10.0.0.0/24", "192.0.2.1/32", "203.0.113.0/24"],
        &lists,
    ))
    .unwrap();

    assert_eq!(texts(&plan.add), ["203.0.113.0/24"]);
    assert_eq!(plan.remove, ["198.51.100.0/24"]);
    assert_eq!(
        texts(&plan.after),
        ["10.0.0.0/24", "192.0.2.1/32", "203.0.113.0/24"]
    );
    assert_eq!(plan.target.list_id.as_deref(), Some("l1"));
    assert!(plan.has_changes());
}

#[test]
fn compute_ignores_spelling_of_live_entries() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &[" 10.0.0.9/24", "192.0.2.1"],
    )];

    let plan = compute(input(&["10.0.0.0/24", "192.0.2.1/32"], &lists)).unwrap();

    assert!(plan.add.is_empty());
    assert!(plan.remove.is_empty());
    assert!(!plan.has_changes());
    assert!(
        plan.warnings
            .iter()
            .any(|warning| warning.contains("host bits")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn compute_keeps_include_ranges() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24", "203.0.113.7"],
    )];
    let mut request = input(&["10.0.0.0/24"], &lists);
    request.source = source(&[("AzureActiveDirectory", 26)], &["203.0.113.7/32"]);

    let plan = compute(request).unwrap();

    assert!(plan.remove.is_empty());
    assert_eq!(texts(&plan.after), ["10.0.0.0/24", "203.0.113.7/32"]);
}

#[test]
fn compute_drops_covered_and_duplicate_desired() {
    let lists = [list("l1", "AzureActiveDirectory", ListType::Allow, &[])];

    let plan = compute(input(
        &["10.0.0.0/16", "10.0.5.0/24", "10.0.0.0/16"],
        &lists,
    ))
    .unwrap();

    assert_eq!(texts(&plan.after), ["10.0.0.0/16"]);
    assert!(
        plan.warnings
            .iter()
            .any(|warning| warning.contains("`10.0.5.0/24`, which `10.0.0.0/16` already covers"))
    );
    assert!(
        plan.warnings
            .iter()
            .any(|warning| warning.contains("`10.0.0.0/16` 2 times"))
    );
}

#[test]
fn compute_removes_unparseable_live_entries() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24", "not-an-ip"],
    )];

    let plan = compute(input(&["10.0.0.0/24"], &lists)).unwrap();

    assert_eq!(plan.remove, ["not-an-ip"]);
}

#[test]
fn compute_refuses_block_list() {
    let lists = [list(
        "b1",
        "AzureActiveDirectory",
        ListType::Block,
        &["10.0.0.0/24"],
    )];

    let refusal = compute(input(&["10.0.0.0/24"], &lists)).unwrap_err();

    assert_eq!(refusal.guard, Guard::BlockList);
    assert!(
        refusal
            .to_string()
            .starts_with("refused by the `block-list` guard:")
    );
}

#[test]
fn compute_refuses_shared_label() {
    let lists = [
        list("a1", "AzureActiveDirectory", ListType::Allow, &[]),
        list("a2", "AzureActiveDirectory", ListType::Allow, &[]),
    ];

    let refusal = compute(input(&["10.0.0.0/24"], &lists)).unwrap_err();

    assert_eq!(refusal.guard, Guard::AmbiguousLabel);
    assert!(refusal.to_string().contains("`a1`, `a2`"));
    assert!(refusal.to_string().ends_with("(override with `--list-id`)"));
}

#[test]
fn compute_picks_list_by_id_despite_shared_label() {
    let lists = [
        list("a1", "AzureActiveDirectory", ListType::Allow, &[]),
        list(
            "a2",
            "AzureActiveDirectory",
            ListType::Allow,
            &["10.0.0.0/24"],
        ),
    ];
    let mut request = input(&["10.0.0.0/24"], &lists);
    request.list_id = Some("a2".to_owned());

    let plan = compute(request).unwrap();

    assert_eq!(plan.target.list_id.as_deref(), Some("a2"));
    assert!(!plan.has_changes());
}

#[test]
fn compute_refuses_missing_list_without_create() {
    let refusal = compute(input(&["10.0.0.0/24"], &[])).unwrap_err();

    assert_eq!(refusal.guard, Guard::MissingList);
    assert!(refusal.to_string().contains("`--create-if-missing`"));
}

#[test]
fn compute_plans_creation_when_allowed() {
    let mut request = input(&["10.0.0.0/24"], &[]);
    request.overrides.create_if_missing = true;

    let plan = compute(request).unwrap();

    assert_eq!(plan.target.list_id, None);
    assert_eq!(texts(&plan.add), ["10.0.0.0/24"]);
    assert!(plan.has_changes());
}

#[test]
fn compute_counts_other_lists_in_budget() {
    let others: Vec<String> = (0..990)
        .map(|index| format!("172.16.{}.{}", index / 256, index % 256))
        .collect();
    let other_refs: Vec<&str> = others.iter().map(String::as_str).collect();
    let lists = [
        list("o1", "office", ListType::Allow, &other_refs),
        list("l1", "AzureActiveDirectory", ListType::Allow, &[]),
    ];
    // Twelve /26 blocks: 12 values as listed, 2 values (a /23 and a /24) once aggregated.
    let desired: Vec<String> = (0..12)
        .map(|index| format!("10.0.{}.{}/26", index / 4, (index % 4) * 64))
        .collect();
    let desired_refs: Vec<&str> = desired.iter().map(String::as_str).collect();

    let plan = compute(input(&desired_refs, &lists)).unwrap();

    assert_eq!(texts(&plan.after), ["10.0.0.0/23", "10.0.2.0/24"]);
    assert_eq!(plan.budget.other_lists, 990);
    assert!(
        plan.warnings
            .iter()
            .any(|warning| warning.contains("12 entries became 2"))
    );
}

#[test]
fn compute_refuses_over_budget_after_aggregation() {
    let others: Vec<String> = (0..999)
        .map(|index| format!("172.16.{}.{}", index / 256, index % 256))
        .collect();
    let other_refs: Vec<&str> = others.iter().map(String::as_str).collect();
    let lists = [list("o1", "office", ListType::Block, &other_refs)];
    let mut request = input(&["10.0.0.0/24", "10.2.0.0/24"], &lists);
    request.overrides.create_if_missing = true;

    let refusal = compute(request).unwrap_err();

    assert_eq!(refusal.guard, Guard::Budget);
}

#[test]
fn fingerprint_ignores_order_spelling_and_duplicates() {
    let a = fingerprint(&["10.0.0.0/24".into(), "192.0.2.1".into()]);
    let b = fingerprint(&[
        "192.0.2.1/32".into(),
        " 10.0.0.7/24".into(),
        "10.0.0.0/24".into(),
    ]);

    assert_eq!(a, b);
    // Independent: printf '10.0.0.0/24\n192.0.2.1/32\n' | sha256sum
    assert_eq!(
        a,
        "27751e8684f906e2fb33598b8b3cc7765a090f0663897c26b1e48d401a6ea001"
    );
}

#[test]
fn fingerprint_of_empty_list_is_sha256_of_nothing() {
    assert_eq!(
        fingerprint(&[]),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// Builds a consistent plan: `before` entries, the first `remove` of them removed, one added.
fn plan_with(before: usize, remove: usize) -> Plan {
    let lists = [list("l1", "AzureActiveDirectory", ListType::Allow, &[])];
    let mut plan = compute(input(&["10.0.0.0/24"], &lists)).unwrap();
    plan.before = (0..before)
        .map(|index| format!("172.16.{}.{}/32", index / 256, index % 256))
        .collect();
    plan.before_sha256 = fingerprint(&plan.before);
    plan.remove = plan.before.iter().take(remove).cloned().collect();
    let mut after: Vec<Ipv4Prefix> = plan.before[remove..]
        .iter()
        .map(|entry| entry.parse().unwrap())
        .collect();
    after.extend(plan.add.iter().copied());
    after.sort();
    plan.after = after;
    plan
}

#[test]
fn large_removal_threshold_is_ten_percent_or_25() {
    assert_eq!(large_removal_threshold(0), 25);
    assert_eq!(large_removal_threshold(250), 25);
    assert_eq!(large_removal_threshold(259), 25);
    assert_eq!(large_removal_threshold(260), 26);
    assert_eq!(large_removal_threshold(1000), 100);
}

#[test]
fn guard_refuses_large_removal_unless_allowed() {
    let plan = plan_with(200, 26);

    let refusal = check_guards(&plan, Overrides::default(), &[]).unwrap_err();
    assert_eq!(refusal.guard, Guard::LargeRemoval);
    assert!(refusal.to_string().contains("removes 26 of 200 entries"));
    assert!(
        refusal
            .to_string()
            .ends_with("(override with `--allow-large-removal`)")
    );

    let allowed = Overrides {
        allow_large_removal: true,
        ..Overrides::default()
    };
    assert_eq!(check_guards(&plan, allowed, &[]), Ok(()));
    assert_eq!(
        check_guards(&plan_with(200, 25), Overrides::default(), &[]),
        Ok(())
    );
}

#[test]
fn guard_refuses_empty_list_always() {
    let mut plan = plan_with(3, 3);
    plan.add.clear();
    plan.after.clear();
    let everything = Overrides {
        allow_large_removal: true,
        allow_older_source: true,
        create_if_missing: true,
    };

    let refusal = check_guards(&plan, everything, &[]).unwrap_err();

    assert_eq!(refusal.guard, Guard::EmptyList);
    assert!(
        refusal
            .to_string()
            .ends_with("(this guard has no override)")
    );
}

#[test]
fn guard_refuses_older_source() {
    let plan = plan_with(3, 0);
    let last_applied = [PlanTag {
        name: "AzureActiveDirectory".to_owned(),
        change_number: 27,
        ipv4_count: 0,
        ipv6_count: 0,
    }];

    let refusal = check_guards(&plan, Overrides::default(), &last_applied).unwrap_err();
    assert_eq!(refusal.guard, Guard::OlderSource);
    assert!(refusal.to_string().contains("changeNumber 26"));

    let recorded = Overrides::default().with_recorded(&["allow-older-source".to_owned()]);
    assert_eq!(check_guards(&plan, recorded, &last_applied), Ok(()));
}

#[test]
fn drift_detects_changed_live_list() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24"],
    )];
    let plan = compute(input(&["10.0.0.0/24", "10.1.0.0/24"], &lists)).unwrap();

    assert_eq!(check_drift(&plan, Some(&lists[0])), Ok(()));

    let reordered = list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24", "10.0.0.0/24"],
    );
    assert_eq!(check_drift(&plan, Some(&reordered)), Ok(()));

    let edited = list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.0/24", "198.51.100.1"],
    );
    assert_eq!(
        check_drift(&plan, Some(&edited)).unwrap_err().guard,
        Guard::Drift
    );
    assert_eq!(check_drift(&plan, None).unwrap_err().guard, Guard::Drift);
}

#[test]
fn consistency_accepts_computed_plans() {
    let lists = [list(
        "l1",
        "AzureActiveDirectory",
        ListType::Allow,
        &["10.0.0.9/24", "198.51.100.0/24", "junk"],
    )];
    let plan = compute(input(&["10.0.0.0/24", "203.0.113.0/24"], &lists)).unwrap();

    assert_eq!(check_consistency(&plan), Ok(()));
}

#[test]
fn consistency_rejects_after_edited_by_hand() {
    let mut widened = plan_with(30, 0);
    widened.after.insert(0, "0.0.0.0/0".parse().unwrap());
    let refusal = check_consistency(&widened).unwrap_err();
    assert_eq!(refusal.guard, Guard::InconsistentPlan);
    assert!(
        refusal.to_string().contains("`after` holds `0.0.0.0/0`"),
        "{refusal}"
    );

    let mut shrunk = plan_with(30, 0);
    shrunk.after.truncate(2);
    assert!(
        check_consistency(&shrunk)
            .unwrap_err()
            .to_string()
            .contains("`after` lacks")
    );
}

#[test]
fn consistency_rejects_hidden_removals() {
    let mut plan = plan_with(61, 60);
    plan.remove.clear();

    let refusal = check_guards(&plan, Overrides::default(), &[]).unwrap_err();

    assert_eq!(refusal.guard, Guard::InconsistentPlan);
}

#[test]
fn consistency_rejects_edited_before() {
    let mut plan = plan_with(3, 0);
    plan.before.push("192.0.2.1/32".to_owned());

    let refusal = check_consistency(&plan).unwrap_err();

    assert!(
        refusal
            .to_string()
            .contains("`before_sha256` is not the fingerprint of `before`")
    );
}
