using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Postgres.Tests;

/// <summary>The reader's hardening (docs/postgres.md, "Hardening"), tried as the reader against the real server.</summary>
public sealed class HardenedReaderTests
{
    private static async Task<TestDatabase> ShopAsync()
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("""
            CREATE SCHEMA sales;
            CREATE TABLE public.orders (id int primary key); INSERT INTO public.orders VALUES (1);
            CREATE TABLE sales.invoices (id int primary key); INSERT INTO sales.invoices VALUES (1);
            """);
        return db;
    }

    private static async Task<NpgsqlConnection> LogInAsync(TestDatabase db, Onboard onboard)
    {
        var connection = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task As_the_reader_a_temp_table_fails_in_its_default_transaction()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await using var reader = await LogInAsync(db, onboard);

        await using var temp = new NpgsqlCommand("CREATE TEMP TABLE scratch (id int)", reader);
        var error = await Assert.ThrowsAsync<PostgresException>(() => temp.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, error.SqlState);
    }

    [Fact]
    public async Task The_reader_role_carries_the_hardening_settings_and_the_configured_statement_timeout()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), statementTimeout: TimeSpan.FromMinutes(90));
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await using var reader = await LogInAsync(db, onboard);

        await using var show = new NpgsqlCommand(
            "SELECT current_setting('default_transaction_read_only') || ' ' || current_setting('idle_in_transaction_session_timeout') || ' ' || current_setting('statement_timeout')", reader);

        Assert.Equal("on 15min 90min", await show.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_verify_access_detail_is_honest_about_large_objects_on_this_server_version()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.True(result.Outcome == Workflows.Ports.StepOutcome.Done, result.Message);
        Assert.Contains("a temp table and a table are refused in its default transaction (read-only)", result.Message, StringComparison.Ordinal);
        var version = await db.ServerVersionAsync();
        if (version < 160000)
        {
            Assert.Contains($"it can still create large objects: PostgreSQL {version / 10000} allows lo_from_bytea in a read-only transaction (16+ refuses it)",
                result.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("a large object (lo_from_bytea) is refused in its default transaction", result.Message, StringComparison.Ordinal);
        }
        Assert.Equal(0L, await db.ScalarAsync("SELECT count(*) FROM pg_largeobject_metadata"));
    }

    [Fact]
    public async Task With_tables_a_later_table_in_that_schema_is_not_readable_and_no_default_privileges_are_set()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["sales"], [new TableName("sales", "invoices")]);

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await db.ExecuteAsync("CREATE TABLE sales.later (id int);");

        Assert.DoesNotContain(plan.Changes, c => c.StartsWith("ALTER DEFAULT PRIVILEGES", StringComparison.Ordinal));
        Assert.Contains("tables created later are not readable", plan.Note, StringComparison.Ordinal);
        await using var reader = await LogInAsync(db, onboard);
        await using var later = new NpgsqlCommand("SELECT count(*) FROM sales.later", reader);
        var error = await Assert.ThrowsAsync<PostgresException>(() => later.ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Fact]
    public async Task With_a_whole_schema_a_table_created_later_by_a_table_creator_that_owned_none_is_readable()
    {
        await using var db = await ShopAsync();
        var migrator = db.NewRoleName("migrator");
        await db.ExecuteAsync($"CREATE ROLE \"{migrator}\"; GRANT CREATE, USAGE ON SCHEMA sales TO \"{migrator}\";");
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["sales"], tableCreators: [migrator]);

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await db.ExecuteAsync($"SET ROLE \"{migrator}\"; CREATE TABLE sales.migrated (id int); INSERT INTO sales.migrated VALUES (3);");

        Assert.Contains($"ALTER DEFAULT PRIVILEGES FOR ROLE \"{migrator}\" IN SCHEMA \"sales\" GRANT SELECT ON TABLES TO \"{onboard.User}\"", plan.Changes);
        Assert.Contains($"by postgres, {migrator} become readable too", plan.Note, StringComparison.Ordinal);
        await using var reader = await LogInAsync(db, onboard);
        await using var select = new NpgsqlCommand("SELECT id FROM sales.migrated", reader);
        Assert.Equal(3, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_table_creator_that_does_not_exist_fails_the_plan_naming_it()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), tableCreators: ["no_such_migrator"]);

        var error = await Assert.ThrowsAsync<Workflows.Ports.StepFailedException>(() => onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));

        Assert.Contains("TableCreators names role no_such_migrator, which does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_whose_read_only_default_was_removed_fails_verification()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await db.ExecuteAsync($"ALTER ROLE \"{onboard.User}\" RESET default_transaction_read_only");

        var result = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);
        var again = onboard.Again();
        var throughAdmin = await again.VerifyAccess.ApplyAsync(again.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal(Workflows.Ports.StepOutcome.Failed, result.Outcome);
        Assert.Contains("does not have default_transaction_read_only = on", result.Message, StringComparison.Ordinal);
        Assert.Contains("a temp table could be created in its default transaction", result.Message, StringComparison.Ordinal);
        Assert.Equal(Workflows.Ports.StepOutcome.Failed, throughAdmin.Outcome);
        Assert.Contains("does not have default_transaction_read_only = on", throughAdmin.Message, StringComparison.Ordinal);
    }
}
