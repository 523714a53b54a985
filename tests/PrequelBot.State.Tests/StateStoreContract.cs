using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.State.Tests;

/// <summary>The behaviour every <see cref="IStateStore"/> must have. Each provider runs this whole suite.</summary>
public abstract class StateStoreContract
{
    /// <summary>A fresh, migrated, empty store.</summary>
    protected abstract Task<IStateStore> NewStoreAsync();

    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static OnboardingAggregate NewAggregate(string? db = null, string? id = null, DateTimeOffset? createdAt = null)
    {
        db ??= "db" + Guid.NewGuid().ToString("N")[..8];
        var ob = new Onboarding
        {
            Id = id ?? "ob-" + Guid.NewGuid().ToString("N")[..8],
            DatabaseKey = db,
            Request = new OnboardingRequest
            {
                DatabaseAlias = db,
                InstanceIdentifier = db + "-prod",
                Replica = true,
                ReplicaId = db + "-prod-prequel-replica",
                Schemas = ["public", "sales"],
                Tables = [new("sales", "orders")],
                SourceName = db,
            },
            Requester = new ChatUser(ChatPlatforms.Teams, "aad-1", "Rita"),
            Conversation = new ConversationRef(ChatPlatforms.Teams, "19:abc@thread.tacv2", """{"serviceUrl":"https://smba.example/"}"""),
            CreatedAt = createdAt ?? T0,
            UpdatedAt = createdAt ?? T0,
            ChatVersion = 1,
        };
        return new OnboardingAggregate
        {
            Onboarding = ob,
            Steps = [.. StepCatalogue.Connect.Steps.Select((s, i) => new StepRecord { Name = s.Name, Ordinal = i })],
            Approvals = [],
        };
    }

    private static AuditEvent Audit(string id, string action) => new(id, T0, "tester", action, "detail");


    [Fact]
    public async Task Migrating_twice_is_harmless()
    {
        var store = await NewStoreAsync();

        await store.MigrateAsync(CancellationToken.None);

        Assert.True(await store.PingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_onboarding_round_trips_with_its_steps_approvals_and_facts()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        agg.Onboarding.Facts.Source = new DatabaseFacts { InstanceIdentifier = "x", Engine = "postgres", SecurityGroupIds = ["sg-1", "sg-2"], Port = 5433 };
        agg.Onboarding.Facts.Values["k"] = "v";

        await store.CreateAsync(agg.WithAudit(Audit(agg.Id, "created")), CancellationToken.None);
        var loaded = await store.LoadAsync(agg.Id, CancellationToken.None);

        Assert.NotNull(loaded);
        Assert.Equal(1, loaded!.Onboarding.Version);
        Assert.Equal(agg.Onboarding.Request, loaded.Onboarding.Request with { Schemas = agg.Onboarding.Request.Schemas, Tables = agg.Onboarding.Request.Tables });
        Assert.Equal(["public", "sales"], loaded.Onboarding.Request.Schemas);
        Assert.Equal(new TableNameEquality("sales", "orders"), new TableNameEquality(loaded.Onboarding.Request.Tables[0].Schema, loaded.Onboarding.Request.Tables[0].Table));
        Assert.Equal(agg.Onboarding.Requester, loaded.Onboarding.Requester);
        Assert.Equal(agg.Onboarding.Conversation, loaded.Onboarding.Conversation);
        Assert.Equal(["sg-1", "sg-2"], loaded.Onboarding.Facts.Source!.SecurityGroupIds);
        Assert.Equal(5433, loaded.Onboarding.Facts.Source.Port);
        Assert.Equal("v", loaded.Onboarding.Facts.Values["k"]);
        Assert.Equal(T0, loaded.Onboarding.CreatedAt);
        Assert.Equal(StepCatalogue.Connect.Steps.Select(s => s.Name), loaded.Steps.Select(s => s.Name));
        Assert.Null(await store.LoadAsync("ob-missing", CancellationToken.None));
    }

    private sealed record TableNameEquality(string Schema, string Table);

    [Fact]
    public async Task The_change_record_round_trips_with_the_facts_and_survives_a_later_save()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        var record = agg.Onboarding.Facts.Changes;
        record.ReplicaId = "db-prequel-replica";
        record.DedicatedGroupId = "sg-0dedicated";
        record.GroupAttachedTo = "db-prequel-replica";
        record.AddRule(new RecordedRule("sg-0dedicated", "35.192.85.117/32", 5432));
        record.AddAclEntry(new RecordedAclEntry("acl-1", 95, Egress: true, "35.192.85.117/32", 1024, 65535));
        record.SetRole("prequel_reader", created: true);
        record.SetSource("src-1", created: false);
        record.SetPublicFlagChanged("db-prod", previous: false);
        await store.CreateAsync(agg, CancellationToken.None);

        var loaded = (await store.LoadAsync(agg.Id, CancellationToken.None))!;
        loaded.Onboarding.Facts.Values["later"] = "step";
        Assert.True(await store.TrySaveAsync(loaded, loaded.Onboarding.Version, CancellationToken.None));
        var again = (await store.LoadAsync(agg.Id, CancellationToken.None))!.Onboarding.Facts.Changes;

        Assert.Equal("db-prequel-replica", again.ReplicaId);
        Assert.Equal("sg-0dedicated", again.DedicatedGroupId);
        Assert.Equal("db-prequel-replica", again.GroupAttachedTo);
        Assert.Equal([new RecordedRule("sg-0dedicated", "35.192.85.117/32", 5432)], again.Rules);
        Assert.Equal([new RecordedAclEntry("acl-1", 95, true, "35.192.85.117/32", 1024, 65535)], again.AclEntries);
        Assert.Equal(("prequel_reader", true), (again.RoleName, again.RoleCreated));
        Assert.Equal(("src-1", false), (again.PrequelSourceId, again.SourceCreated));
        Assert.Equal(("db-prod", (bool?)false), (again.PublicFlagChangedOn, again.PreviousPublicFlag));
    }

    [Fact]
    public async Task The_onboardings_of_a_database_are_listed_newest_first_and_no_other_database_is()
    {
        var store = await NewStoreAsync();
        var db = "db" + Guid.NewGuid().ToString("N")[..8];
        var first = NewAggregate(db);
        await store.CreateAsync(first, CancellationToken.None);
        first.Onboarding.State = OnboardingState.Completed;
        Assert.True(await store.TrySaveAsync(first, 1, CancellationToken.None));
        var second = NewAggregate(db, createdAt: T0.AddMinutes(5));
        await store.CreateAsync(second, CancellationToken.None);
        await store.CreateAsync(NewAggregate(), CancellationToken.None);

        var ids = await store.ListIdsOfDatabaseAsync(db, CancellationToken.None);

        Assert.Equal([second.Id, first.Id], ids);
    }

    [Fact]
    public async Task Save_is_a_compare_and_set_on_the_version()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);
        var a = (await store.LoadAsync(agg.Id, CancellationToken.None))!;
        var b = (await store.LoadAsync(agg.Id, CancellationToken.None))!;

        a.Step(StepNames.Discover).State = StepState.Completed;
        a.Approvals.Add(new ApprovalRecord { Id = "ap-" + Guid.NewGuid().ToString("N")[..12], OnboardingId = agg.Id, Step = StepNames.CreateReplica, Changes = ["create x"], PlanHash = "h", RequestedAt = T0, ExpiresAt = T0.AddDays(1) });
        var first = await store.TrySaveAsync(a.WithAudit(Audit(agg.Id, "first")), a.Onboarding.Version, CancellationToken.None);
        b.Step(StepNames.Discover).State = StepState.Failed;
        var second = await store.TrySaveAsync(b.WithAudit(Audit(agg.Id, "second")), b.Onboarding.Version, CancellationToken.None);

        Assert.True(first);
        Assert.False(second);
        var stored = (await store.LoadAsync(agg.Id, CancellationToken.None))!;
        Assert.Equal(2, stored.Onboarding.Version);
        Assert.Equal(StepState.Completed, stored.Step(StepNames.Discover).State);
        Assert.Single(stored.Approvals);
        Assert.Equal(["first"], (await store.GetAuditAsync(agg.Id, CancellationToken.None)).Select(e => e.Action));
    }

    [Fact]
    public async Task Concurrent_saves_of_one_version_let_exactly_one_win()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);
        var copies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.LoadAsync(agg.Id, CancellationToken.None)));

        var results = await Task.WhenAll(copies.Select((c, i) =>
        {
            c!.Onboarding.Message = $"writer {i}";
            return store.TrySaveAsync(c, 1, CancellationToken.None);
        }));

        Assert.Equal(1, results.Count(r => r));
    }

    [Fact]
    public async Task A_database_has_at_most_one_active_onboarding()
    {
        var store = await NewStoreAsync();
        var first = NewAggregate(db: "shared" + Guid.NewGuid().ToString("N")[..6]);
        await store.CreateAsync(first, CancellationToken.None);

        var second = NewAggregate(db: first.Onboarding.DatabaseKey);
        var e = await Assert.ThrowsAsync<ActiveOnboardingExistsException>(() => store.CreateAsync(second, CancellationToken.None));

        Assert.Equal(first.Id, e.ExistingOnboardingId);
        Assert.Null(await store.LoadAsync(second.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_finished_onboarding_frees_its_database_and_reactivating_it_is_refused_while_another_is_active()
    {
        var store = await NewStoreAsync();
        var first = NewAggregate(db: "shared" + Guid.NewGuid().ToString("N")[..6]);
        await store.CreateAsync(first, CancellationToken.None);
        first.Onboarding.State = OnboardingState.Failed;
        Assert.True(await store.TrySaveAsync(first, 1, CancellationToken.None));

        var second = NewAggregate(db: first.Onboarding.DatabaseKey);
        await store.CreateAsync(second, CancellationToken.None);
        first.Onboarding.State = OnboardingState.Running;

        await Assert.ThrowsAsync<ActiveOnboardingExistsException>(() => store.TrySaveAsync(first, 2, CancellationToken.None));
        Assert.Equal(OnboardingState.Failed, (await store.LoadAsync(first.Id, CancellationToken.None))!.Onboarding.State);
    }

    [Fact]
    public async Task Approvals_are_found_by_id()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);
        var approvalId = "ap-" + Guid.NewGuid().ToString("N")[..12];
        agg.Approvals.Add(new ApprovalRecord { Id = approvalId, OnboardingId = agg.Id, Step = StepNames.PublicAccess, Changes = ["a", "b"], Note = "n", PlanHash = "h", RequestedAt = T0, ExpiresAt = T0.AddHours(1) });
        await store.TrySaveAsync(agg, 1, CancellationToken.None);

        Assert.Equal(agg.Id, await store.FindOnboardingIdByApprovalAsync(approvalId, CancellationToken.None));
        Assert.Null(await store.FindOnboardingIdByApprovalAsync("ap-nope", CancellationToken.None));
        var loaded = Assert.Single((await store.LoadAsync(agg.Id, CancellationToken.None))!.Approvals);
        Assert.Equal(["a", "b"], loaded.Changes);
        Assert.Equal(T0.AddHours(1), loaded.ExpiresAt);
    }

    [Fact]
    public async Task Onboardings_are_counted_by_kind_and_state_in_their_stored_words()
    {
        var store = await NewStoreAsync();
        static long Count(IReadOnlyList<OnboardingCount> counts, string state) =>
            counts.Where(c => c.Kind == "connect" && c.State == state).Sum(c => c.Count);
        var before = await store.CountByStateAsync(CancellationToken.None);
        var done = NewAggregate();
        done.Onboarding.State = OnboardingState.Completed;
        await store.CreateAsync(done, CancellationToken.None);
        var waiting = NewAggregate();
        waiting.Onboarding.State = OnboardingState.AwaitingApproval;
        await store.CreateAsync(waiting, CancellationToken.None);
        await store.CreateAsync(NewAggregate(), CancellationToken.None);

        var after = await store.CountByStateAsync(CancellationToken.None);

        Assert.Equal(Count(before, "completed") + 1, Count(after, "completed"));
        Assert.Equal(Count(before, "awaiting-approval") + 1, Count(after, "awaiting-approval"));
        Assert.Equal(before.Sum(c => c.Count) + 3, after.Sum(c => c.Count));
        Assert.All(after, c => Assert.True(c.Count > 0));
    }

    [Fact]
    public async Task Recent_lists_active_onboardings_first_and_active_ids_exclude_finished_ones()
    {
        var store = await NewStoreAsync();
        var done = NewAggregate();
        done.Onboarding.State = OnboardingState.Completed;
        done.Onboarding.UpdatedAt = T0.AddHours(5);
        var active = NewAggregate();
        await store.CreateAsync(done, CancellationToken.None);
        await store.CreateAsync(active, CancellationToken.None);

        var recent = await store.ListRecentWithCurrentStepAsync(100, CancellationToken.None);
        var activeIds = await store.ListActiveIdsAsync(CancellationToken.None);

        Assert.True(recent.ToList().FindIndex(o => o.Id == active.Id) < recent.ToList().FindIndex(o => o.Id == done.Id));
        Assert.Contains(active.Id, activeIds);
        Assert.DoesNotContain(done.Id, activeIds);
    }

    [Fact]
    public async Task The_status_listing_shows_this_stores_own_writes_at_once()
    {
        var store = await NewStoreAsync();
        var first = NewAggregate();
        await store.CreateAsync(first, CancellationToken.None);
        Assert.Equal(OnboardingState.Planning, Assert.Single(await store.ListRecentWithCurrentStepAsync(15, CancellationToken.None)).State);

        first.Onboarding.State = OnboardingState.AwaitingApproval;
        Assert.True(await store.TrySaveAsync(first, first.Onboarding.Version, CancellationToken.None));
        var afterSave = Assert.Single(await store.ListRecentWithCurrentStepAsync(15, CancellationToken.None));
        var second = NewAggregate();
        await store.CreateAsync(second, CancellationToken.None);
        var afterCreate = await store.ListRecentWithCurrentStepAsync(15, CancellationToken.None);

        Assert.Equal(OnboardingState.AwaitingApproval, afterSave.State);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), afterCreate.Select(l => l.Id).Order());
    }

    [Fact]
    public async Task Recent_onboardings_come_with_their_first_unfinished_step_in_one_query()
    {
        var store = await NewStoreAsync();
        var fresh = NewAggregate();
        var halfway = NewAggregate();
        var finished = NewAggregate();
        foreach (var step in halfway.Steps.Take(3)) step.State = step.Ordinal == 1 ? StepState.AlreadyInPlace : StepState.Completed;
        halfway.Steps[4].State = StepState.Failed;
        foreach (var step in finished.Steps) step.State = StepState.Completed;
        foreach (var agg in new[] { fresh, halfway, finished }) await store.CreateAsync(agg, CancellationToken.None);

        var listed = await store.ListRecentWithCurrentStepAsync(100, CancellationToken.None);
        var current = listed.ToDictionary(l => l.Id, l => l.CurrentStep);

        Assert.Equal(fresh.Steps[0].Name, current[fresh.Id]);
        Assert.Equal(halfway.Steps[3].Name, current[halfway.Id]);
        Assert.Equal((await store.LoadAsync(halfway.Id, CancellationToken.None))!.CurrentStep!.Name, current[halfway.Id]);
        Assert.Null(current[finished.Id]);
        var full = await Task.WhenAll(listed.Select(l => store.LoadAsync(l.Id, CancellationToken.None)));
        Assert.Equal(full.Select(o => (o!.Id, o.Onboarding.Request.DatabaseAlias, o.State, o.Onboarding.Requester, o.Onboarding.UpdatedAt)),
            listed.Select(l => (l.Id, l.DatabaseAlias, l.State, l.Requester, l.UpdatedAt)));
    }

    [Fact]
    public async Task Chat_versions_and_message_references_are_tracked()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);

        Assert.Contains(agg.Id, await store.ListChatPendingIdsAsync(CancellationToken.None));
        await store.SaveChatMessageAsync(agg.Id, "card", new StoredChatMessage(new ChatMessageRef(ChatPlatforms.Slack, "C1", "1.0001", "x"), "h1"), CancellationToken.None);
        await store.SaveChatMessageAsync(agg.Id, "card", new StoredChatMessage(new ChatMessageRef(ChatPlatforms.Slack, "C1", "1.0001", "x"), "h2"), CancellationToken.None);
        await store.MarkChatSyncedAsync(agg.Id, 1, CancellationToken.None);
        await store.MarkChatSyncedAsync(agg.Id, 0, CancellationToken.None);

        Assert.DoesNotContain(agg.Id, await store.ListChatPendingIdsAsync(CancellationToken.None));
        Assert.Equal(1, await store.GetChatSyncedVersionAsync(agg.Id, CancellationToken.None));
        var card = (await store.GetChatMessagesAsync(agg.Id, CancellationToken.None))["card"];
        Assert.Equal("h2", card.ContentHash);
        Assert.Equal("1.0001", card.Ref.MessageId);
    }

    [Fact]
    public async Task A_send_is_recorded_before_its_post_with_the_next_outbox_sequence_and_later_attempts_keep_it()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);

        var first = await store.BeginChatSendAsync(agg.Id, "card", T0, CancellationToken.None);
        var again = await store.BeginChatSendAsync(agg.Id, "card", T0.AddMinutes(1), CancellationToken.None);
        var prompt = await store.BeginChatSendAsync(agg.Id, "prompt:ap-1", T0.AddMinutes(2), CancellationToken.None);
        await store.CancelChatSendAsync(agg.Id, "prompt:ap-1", CancellationToken.None);
        var afterRefusal = await store.BeginChatSendAsync(agg.Id, "prompt:ap-1", T0.AddMinutes(3), CancellationToken.None);
        await store.SaveChatMessageAsync(agg.Id, "card", new StoredChatMessage(new ChatMessageRef(ChatPlatforms.Slack, "C1", "1.0001"), "h1", 7, ReplacesEarlier: true), CancellationToken.None);
        var other = NewAggregate();
        await store.CreateAsync(other, CancellationToken.None);

        Assert.Equal(new ChatSendAttempt(1, T0, 1), first);
        Assert.Equal(new ChatSendAttempt(1, T0, 2), again); // an earlier attempt may have posted
        Assert.Equal(new ChatSendAttempt(2, T0.AddMinutes(2), 1), prompt);
        Assert.Equal(new ChatSendAttempt(2, T0.AddMinutes(2), 1), afterRefusal); // refused: nothing to look for
        Assert.Equal(1, (await store.BeginChatSendAsync(other.Id, "card", T0, CancellationToken.None)).Sequence);
        var card = (await store.GetChatMessagesAsync(agg.Id, CancellationToken.None))["card"];
        Assert.Equal((7L, true), (card.ShownVersion, card.ReplacesEarlier));
    }

    [Fact]
    public async Task An_update_is_claimed_by_chat_version_and_never_goes_back_to_an_older_one()
    {
        var store = await NewStoreAsync();
        var agg = NewAggregate();
        await store.CreateAsync(agg, CancellationToken.None);
        await store.SaveChatMessageAsync(agg.Id, "card", new StoredChatMessage(new ChatMessageRef(ChatPlatforms.Slack, "C1", "1.0001"), "h3", 3), CancellationToken.None);

        Assert.False(await store.TryClaimChatUpdateAsync(agg.Id, "card", 2, "pending:h2", CancellationToken.None));
        Assert.True(await store.TryClaimChatUpdateAsync(agg.Id, "card", 4, "pending:h4", CancellationToken.None));
        // A newer sync claims while the version-4 update is in flight: 4 cannot confirm, and the message is made stale.
        Assert.True(await store.TryClaimChatUpdateAsync(agg.Id, "card", 5, "pending:h5", CancellationToken.None));
        Assert.False(await store.ConfirmChatUpdateAsync(agg.Id, "card", 4, "pending:h4", "h4", CancellationToken.None));
        Assert.True(await store.ConfirmChatUpdateAsync(agg.Id, "card", 5, "pending:h5", "h5", CancellationToken.None));
        Assert.Equal(("h5", 5L), Shown(await store.GetChatMessagesAsync(agg.Id, CancellationToken.None)));
        await store.MarkChatMessageStaleAsync(agg.Id, "card", CancellationToken.None);

        Assert.Equal(("", 5L), Shown(await store.GetChatMessagesAsync(agg.Id, CancellationToken.None)));
        Assert.True(await store.TryClaimChatUpdateAsync(agg.Id, "card", 5, "pending:h5", CancellationToken.None)); // the same version again is allowed

        static (string, long) Shown(IReadOnlyDictionary<string, StoredChatMessage> messages) => (messages["card"].ContentHash, messages["card"].ShownVersion);
    }

    [Fact]
    public async Task A_lease_is_held_by_one_owner_until_it_expires_or_is_released()
    {
        var store = await NewStoreAsync();
        var name = "lease-" + Guid.NewGuid().ToString("N");
        var later = DateTimeOffset.UtcNow.AddMinutes(1);

        Assert.True(await store.TryAcquireLeaseAsync(name, "a", later, CancellationToken.None));
        Assert.True(await store.TryAcquireLeaseAsync(name, "a", later.AddMinutes(1), CancellationToken.None));
        Assert.False(await store.TryAcquireLeaseAsync(name, "b", later, CancellationToken.None));
        await store.ReleaseLeaseAsync(name, "b", CancellationToken.None);
        Assert.False(await store.TryAcquireLeaseAsync(name, "b", later, CancellationToken.None));
        await store.ReleaseLeaseAsync(name, "a", CancellationToken.None);
        Assert.True(await store.TryAcquireLeaseAsync(name, "b", DateTimeOffset.UtcNow.AddMilliseconds(-1), CancellationToken.None));
        Assert.True(await store.TryAcquireLeaseAsync(name, "c", later, CancellationToken.None));
    }

    [Fact]
    public async Task Secrets_are_stored_replaced_and_erased_per_onboarding()
    {
        var store = await NewStoreAsync();
        var id = "ob-" + Guid.NewGuid().ToString("N")[..8];

        await store.PutSecretAsync(id, "pw", "cipher-1", CancellationToken.None);
        await store.PutSecretAsync(id, "pw", "cipher-2", CancellationToken.None);
        Assert.Equal("cipher-2", await store.GetSecretAsync(id, "pw", CancellationToken.None));
        await store.DeleteSecretsAsync(id, CancellationToken.None);

        Assert.Null(await store.GetSecretAsync(id, "pw", CancellationToken.None));
    }

    [Fact]
    public async Task Data_protection_keys_are_kept_and_never_replaced()
    {
        var store = await NewStoreAsync();
        var name = "key-" + Guid.NewGuid().ToString("N");

        store.StoreDataProtectionKey(name, "<key id=\"1\" />");
        store.StoreDataProtectionKey(name, "<key id=\"2\" />");

        Assert.Contains("<key id=\"1\" />", store.GetDataProtectionKeys());
        Assert.DoesNotContain("<key id=\"2\" />", store.GetDataProtectionKeys());
    }
    [Fact]
    public async Task A_drift_check_is_claimed_once_per_due_time_and_not_before_it_is_due()
    {
        var store = await NewStoreAsync();
        var db = "db" + Guid.NewGuid().ToString("N")[..8];

        Assert.True(await store.TryClaimDriftCheckAsync(db, T0, T0.AddHours(1), CancellationToken.None));
        Assert.False(await store.TryClaimDriftCheckAsync(db, T0, T0.AddHours(1), CancellationToken.None));
        Assert.False(await store.TryClaimDriftCheckAsync(db, T0.AddMinutes(59), T0.AddHours(2), CancellationToken.None));
        Assert.True(await store.TryClaimDriftCheckAsync(db, T0.AddHours(1), T0.AddHours(2), CancellationToken.None));

        var claimed = await store.GetDriftAsync(db, CancellationToken.None);
        Assert.Equal(T0.AddHours(2), claimed!.DueAt);
        Assert.Equal("", claimed.ConnectOnboardingId);
        Assert.Empty(claimed.Findings);
        Assert.False(claimed.NoticePending);
        Assert.Null(await store.GetDriftAsync("db-never-checked", CancellationToken.None));
    }

    [Fact]
    public async Task A_drift_record_round_trips_keeps_its_due_time_and_a_posted_notice_never_becomes_pending_again()
    {
        var store = await NewStoreAsync();
        var db = "db" + Guid.NewGuid().ToString("N")[..8];
        Assert.True(await store.TryClaimDriftCheckAsync(db, T0, T0.AddDays(1), CancellationToken.None));

        string[] findings = ["drift: 34.66.12.34 cannot reach TCP 5432", "drift: security group sg-1 no longer has the rule"];
        await store.SaveDriftAsync(new DriftRecord(db, "ob-abc123", findings, T0.AddMinutes(1), "Drift on x", 1, 0) { DueAt = T0.AddDays(1) }, CancellationToken.None);
        var saved = (await store.GetDriftAsync(db, CancellationToken.None))!;
        Assert.Equal(("ob-abc123", string.Join("|", findings), T0.AddMinutes(1), "Drift on x", 1L, 0L, true, T0.AddDays(1)),
            (saved.ConnectOnboardingId, string.Join("|", saved.Findings), saved.CheckedAt, saved.Notice, saved.NoticeSequence, saved.NoticePostedSequence, saved.NoticePending, saved.DueAt));
        Assert.Contains(await store.ListDriftAsync(CancellationToken.None), r => r.DatabaseKey == db && r.NoticePending);

        await store.MarkDriftNoticePostedAsync(db, 1, CancellationToken.None);
        Assert.False((await store.GetDriftAsync(db, CancellationToken.None))!.NoticePending);

        // A check that read the record before the post was marked saves its (older) posted sequence: the mark stands.
        await store.SaveDriftAsync(new DriftRecord(db, "ob-abc123", findings, T0.AddMinutes(2), "Drift on x", 1, 0) { DueAt = T0.AddDays(1) }, CancellationToken.None);
        var after = (await store.GetDriftAsync(db, CancellationToken.None))!;
        Assert.Equal((1L, false, T0.AddMinutes(2)), (after.NoticePostedSequence, after.NoticePending, after.CheckedAt));

        // An older mark never undoes a newer one.
        await store.SaveDriftAsync(new DriftRecord(db, "ob-abc123", [], T0.AddMinutes(3), "no drift", 2, 1) { DueAt = T0.AddDays(1) }, CancellationToken.None);
        await store.MarkDriftNoticePostedAsync(db, 2, CancellationToken.None);
        await store.MarkDriftNoticePostedAsync(db, 1, CancellationToken.None);
        Assert.Equal(2L, (await store.GetDriftAsync(db, CancellationToken.None))!.NoticePostedSequence);
    }
}

/// <summary>Audit events for a save, as a transition would have appended them.</summary>
internal static class AuditForTests
{
    public static OnboardingAggregate WithAudit(this OnboardingAggregate aggregate, AuditEvent e)
    {
        aggregate.Append(e);
        return aggregate;
    }

}
