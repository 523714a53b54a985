using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

public sealed class VerifyAccessStepHandlerTests
{
    private static async Task<(TestDatabase Db, Onboard Onboard)> OnboardedAsync()
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("""
            CREATE SCHEMA sales;
            CREATE TABLE public.a (id int); CREATE TABLE public.b (id int); CREATE TABLE public.c (id int);
            CREATE TABLE sales.x (id int); CREATE TABLE sales.y (id int);
            """);
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        return (db, onboard);
    }

    [Fact]
    public async Task Plan_always_has_the_check_to_run_so_the_workflow_never_skips_it()
    {
        var onboard = new Onboard("Host=127.0.0.1;Username=admin;Database=app", "prequel_reader", ["public", "sales"]);

        var plan = await onboard.VerifyAccess.PlanAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.True(plan.HasChanges);
        Assert.Equal("Log in as prequel_reader and check it can read public, sales and write nothing", Assert.Single(plan.Changes));
    }

    [Fact]
    public async Task Read_only_user_passes_and_the_tables_are_counted_per_schema()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Contains("public: 3 tables, sales: 2 tables readable", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_that_can_insert_fails_verification()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await db.ExecuteAsync($"GRANT INSERT ON sales.x TO \"{onboard.User}\"");

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("can write to sales.x", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task User_that_can_create_in_a_schema_fails_verification()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await db.ExecuteAsync($"GRANT CREATE ON SCHEMA public TO \"{onboard.User}\"");

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("can CREATE in schema public", result.Message, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE in schema public succeeded (rolled back)", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_granted_table_fails_verification_naming_it()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await db.ExecuteAsync($"REVOKE SELECT ON sales.y FROM \"{onboard.User}\"");

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("cannot read sales.y", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_reported_in_plain_words_without_the_password()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await onboard.Secrets.PutAsync(onboard.OnboardingId, SecretNames.UserPassword, "WrongPassword0123456789abcdefghijk", CancellationToken.None);

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("Password authentication failed", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("WrongPassword0123456789abcdefghijk", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_port_is_reported_as_connection_refused()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        var refused = new NpgsqlConnectionStringBuilder(db.AdminConnectionString) { Port = 1, Timeout = 3 }.ConnectionString;
        var moved = new Onboard(refused, onboard.User);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => moved.VerifyAccess.ApplyAsync(moved.Context(StepNames.VerifyAccess), CancellationToken.None));

        Assert.Contains("Connection refused by 127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_database_is_reported_by_name()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        var elsewhere = new NpgsqlConnectionStringBuilder(db.AdminConnectionString) { Database = "no_such_db_here" }.ConnectionString;
        var moved = new Onboard(elsewhere, onboard.User);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => moved.VerifyAccess.ApplyAsync(moved.Context(StepNames.VerifyAccess), CancellationToken.None));

        Assert.Contains("Database no_such_db_here does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_stored_password_the_same_privileges_are_checked_through_the_admin_connection()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await onboard.Secrets.EraseAsync(onboard.OnboardingId, CancellationToken.None);

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.True(result.Outcome == StepOutcome.Done, result.Message);
        Assert.Contains("checked through the admin connection", result.Message, StringComparison.Ordinal);
        Assert.Contains("public: 3 tables, sales: 2 tables readable", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Through_the_admin_connection_a_write_privilege_still_fails_verification()
    {
        var (db, onboard) = await OnboardedAsync();
        await using var _ = db;
        await db.ExecuteAsync($"GRANT UPDATE ON sales.y TO \"{onboard.User}\"");
        var again = onboard.Again();

        var result = await again.VerifyAccess.ApplyAsync(again.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("can write to sales.y", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_that_does_not_exist_fails_verification_with_advice()
    {
        await using var db = await TestDatabase.CreateAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(StepOutcome.Failed, result.Outcome);
        Assert.Contains("does not exist: retry so create-user creates it", result.Message, StringComparison.Ordinal);
    }
}
