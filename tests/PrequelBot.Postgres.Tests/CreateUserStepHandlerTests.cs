using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

public sealed class CreateUserStepHandlerTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Username=postgres;Password=never-used;Database=postgres;Timeout=2";

    private static async Task<TestDatabase> SalesDatabaseAsync()
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("""
            CREATE SCHEMA sales;
            CREATE TABLE public.customers (id int primary key, name text);
            CREATE TABLE public.products (id int primary key);
            CREATE TABLE sales.orders (id int primary key, customer_id int);
            INSERT INTO public.customers VALUES (1, 'Ada');
            """);
        return db;
    }

    [Fact]
    public async Task Plan_shows_the_exact_sql_with_the_password_masked()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.Equal(
        [
            $"CREATE USER \"{onboard.User}\" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '********'",
            $"COMMENT ON ROLE \"{onboard.User}\" IS 'PrequelBot read-only user for database \"{db.Name}\" (onboarding {onboard.OnboardingId})'",
            $"ALTER ROLE \"{onboard.User}\" SET default_transaction_read_only = on",
            $"ALTER ROLE \"{onboard.User}\" SET idle_in_transaction_session_timeout = '15min'",
            $"GRANT USAGE ON SCHEMA \"public\" TO \"{onboard.User}\"",
            $"GRANT USAGE ON SCHEMA \"sales\" TO \"{onboard.User}\"",
            $"GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"{onboard.User}\"",
            $"GRANT SELECT ON ALL TABLES IN SCHEMA \"sales\" TO \"{onboard.User}\"",
            $"ALTER DEFAULT PRIVILEGES FOR ROLE \"postgres\" IN SCHEMA \"public\" GRANT SELECT ON TABLES TO \"{onboard.User}\"",
            $"ALTER DEFAULT PRIVILEGES FOR ROLE \"postgres\" IN SCHEMA \"sales\" GRANT SELECT ON TABLES TO \"{onboard.User}\"",
        ], plan.Changes);
        Assert.Null(await onboard.StoredPasswordAsync());
    }

    [Fact]
    public async Task Created_user_logs_in_with_the_stored_password_and_reads_both_schemas()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);

        var result = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        var password = await onboard.StoredPasswordAsync();
        Assert.NotNull(password);
        Assert.True(password.Length >= 32 && password.All(char.IsAsciiLetterOrDigit));
        Assert.DoesNotContain(password, result.Message!, StringComparison.Ordinal);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, password));
        await user.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT (SELECT count(*) FROM public.customers) + (SELECT count(*) FROM sales.orders)", user);
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Role_password_is_stored_as_a_scram_verifier_not_in_clear()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());

        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        await using var admin = new NpgsqlConnection(db.AdminConnectionString);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT rolpassword FROM pg_authid WHERE rolname = @u", admin);
        cmd.Parameters.AddWithValue("u", onboard.User);
        var stored = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.StartsWith("SCRAM-SHA-256$4096:", stored, StringComparison.Ordinal);
        Assert.DoesNotContain((await onboard.StoredPasswordAsync())!, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Table_created_by_the_admin_after_onboarding_is_readable_by_the_new_user()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        await db.ExecuteAsync("CREATE TABLE sales.refunds (id int); INSERT INTO sales.refunds VALUES (7);");

        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id FROM sales.refunds", user);
        Assert.Equal(7, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Table_created_later_by_another_owner_is_readable_when_the_admin_is_a_member()
    {
        await using var db = await SalesDatabaseAsync();
        var owner = db.NewRoleName("owner");
        await db.ExecuteAsync($"CREATE ROLE \"{owner}\"; GRANT CREATE, USAGE ON SCHEMA sales TO \"{owner}\"; SET ROLE \"{owner}\"; CREATE TABLE sales.owned (id int);");
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["sales"]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        await db.ExecuteAsync($"SET ROLE \"{owner}\"; CREATE TABLE sales.owned_later (id int);");

        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM sales.owned_later", user);
        Assert.Equal(0L, await cmd.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("INSERT INTO public.customers VALUES (2, 'Eve')")]
    [InlineData("UPDATE public.customers SET name = 'Eve'")]
    [InlineData("DELETE FROM public.customers")]
    [InlineData("TRUNCATE public.customers")]
    [InlineData("DROP TABLE public.customers")]
    [InlineData("CREATE TABLE public.intruder (id int)")]
    [InlineData("CREATE TABLE sales.intruder (id int)")]
    public async Task Every_write_attempt_as_the_new_user_is_refused_even_after_it_turns_its_read_only_default_off(string write)
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();

        await using var cmd = new NpgsqlCommand(write, user);
        var readOnly = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        // The role can change its own default: privileges are what really stop it.
        await using (var off = new NpgsqlCommand("SET default_transaction_read_only = off", user)) await off.ExecuteNonQueryAsync();
        var privilege = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, readOnly.SqlState);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, privilege.SqlState);
    }

    [Theory]
    [InlineData("user", "bad\"name")]
    [InlineData("user", "x; DROP TABLE customers")]
    [InlineData("user", "\"; DROP ROLE postgres; --")]
    [InlineData("user", "Reader")]
    [InlineData("user", "lecteur_é")]
    [InlineData("schema", "pub'lic")]
    [InlineData("schema", "sales;")]
    [InlineData("table", "orders\"; DROP")]
    [InlineData("table", "заказы")]
    public async Task Hostile_names_are_rejected_before_any_sql_runs(string kind, string name)
    {
        var onboard = new Onboard(
            Unreachable,
            kind == "user" ? name : "prequel_reader",
            kind == "schema" ? [name] : ["public"],
            kind == "table" ? [new TableName("public", name)] : []);

        var planError = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));
        var applyError = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));

        Assert.StartsWith($"Invalid {kind} name", planError.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Invalid {kind} name", applyError.Message, StringComparison.Ordinal);
        Assert.Equal(0, onboard.Secrets.Puts);
    }

    [Fact]
    public async Task A_rerun_changes_nothing_and_keeps_the_password()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "sales"]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var password = await onboard.StoredPasswordAsync();

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var again = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Equal(StepOutcome.Done, again.Outcome);
        Assert.Equal(1, onboard.Secrets.Puts);
        Assert.Equal(password, await onboard.StoredPasswordAsync());
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, password!));
        await user.OpenAsync();
    }

    [Fact]
    public async Task Crash_after_storing_the_password_converges_on_the_stored_one()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await onboard.Secrets.PutAsync(onboard.OnboardingId, SecretNames.UserPassword, "StoredBeforeTheCrash0123456789abcdef", CancellationToken.None);

        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.Equal("StoredBeforeTheCrash0123456789abcdef", await onboard.StoredPasswordAsync());
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, "StoredBeforeTheCrash0123456789abcdef"));
        await user.OpenAsync();
    }

    [Fact]
    public async Task A_plain_existing_role_is_reused_and_keeps_its_password()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\" PASSWORD 'OldPasswordFromAnEarlierOnboarding1'");

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var result = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.DoesNotContain(plan.Changes, c => c.Contains("PASSWORD", StringComparison.Ordinal));
        Assert.Contains("its password is not changed", plan.Note, StringComparison.Ordinal);
        Assert.Equal(0, onboard.Secrets.Puts);
        Assert.False(onboard.Facts.Values.ContainsKey(FactKeys.UserPasswordSet));
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, "OldPasswordFromAnEarlierOnboarding1"));
        await user.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT count(*) FROM public.customers", user);
        Assert.Equal(1L, await select.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("SUPERUSER", "is a superuser")]
    [InlineData("CREATEROLE", "can create roles")]
    [InlineData("CREATEDB", "can create databases")]
    [InlineData("BYPASSRLS", "BYPASSRLS")]
    [InlineData("REPLICATION", "REPLICATION")]
    public async Task Existing_privileged_role_is_refused_with_the_reason(string attribute, string reason)
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await db.ExecuteAsync($"CREATE ROLE \"{onboard.User}\" LOGIN {attribute}");

        var error = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, onboard.Secrets.Puts);
    }

    [Fact]
    public async Task Missing_schema_is_named_in_the_failure()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public", "marketing"]);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));

        Assert.Equal("Schema marketing does not exist in the database.", error.Message);
    }

    [Fact]
    public async Task Missing_table_is_named_in_the_failure()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public"], [new TableName("public", "customers"), new TableName("sales", "returns")]);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));

        Assert.Equal("Table sales.returns does not exist in the database.", error.Message);
    }

    [Fact]
    public async Task Listed_tables_only_are_granted()
    {
        await using var db = await SalesDatabaseAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName(), ["public"], [new TableName("public", "customers")]);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();

        await using var read = new NpgsqlCommand("SELECT count(*) FROM public.customers", user);
        await using var other = new NpgsqlCommand("SELECT count(*) FROM public.products", user);

        Assert.Equal(1L, await read.ExecuteScalarAsync());
        var error = await Assert.ThrowsAsync<PostgresException>(() => other.ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }
}
