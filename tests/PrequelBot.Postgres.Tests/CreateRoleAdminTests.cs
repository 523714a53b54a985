using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary>
/// create-user with an admin that has CREATEROLE but is not a superuser (as the RDS master user is not): the other
/// tests use the test server's superuser, which may do what such an admin may not.
/// </summary>
public sealed class CreateRoleAdminTests
{
    private static async Task<(TestDatabase Db, string AdminConnectionString)> DatabaseOwnedByCreateRoleAdminAsync()
    {
        var db = await TestDatabase.CreateAsync();
        var admin = db.NewRoleName("admin");
        var password = "Admin" + Guid.NewGuid().ToString("N");
        await db.ExecuteAsync($"CREATE ROLE \"{admin}\" LOGIN CREATEROLE PASSWORD '{password}'; ALTER DATABASE \"{db.Name}\" OWNER TO \"{admin}\";");
        var adminConnectionString = new NpgsqlConnectionStringBuilder(db.AdminConnectionString) { Username = admin, Password = password }.ConnectionString;
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand("CREATE TABLE public.customers (id int PRIMARY KEY); INSERT INTO public.customers VALUES (1);", connection);
        await create.ExecuteNonQueryAsync();
        return (db, adminConnectionString);
    }

    [Fact]
    public async Task A_createrole_admin_creates_the_user_and_it_can_read()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var onboard = new Onboard(adminConnectionString, db.NewRoleName());

        var created = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var verified = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal((StepOutcome.Done, StepOutcome.Done), (created.Outcome, verified.Outcome));
    }

    [Fact]
    public async Task A_createrole_admin_reuses_a_plain_role_without_touching_its_password()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var onboard = new Onboard(adminConnectionString, db.NewRoleName());
        var admin = new NpgsqlConnectionStringBuilder(adminConnectionString).Username;
        await db.ExecuteAsync($"SET ROLE \"{admin}\"; CREATE USER \"{onboard.User}\" PASSWORD 'OldPasswordFromAnEarlierOnboarding1'");

        var created = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var verified = await onboard.VerifyAccess.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.True(created.Outcome == StepOutcome.Done, created.Message);
        Assert.True(verified.Outcome == StepOutcome.Done, verified.Message);
        Assert.Contains("checked through the admin connection", verified.Message, StringComparison.Ordinal);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, "OldPasswordFromAnEarlierOnboarding1"));
        await user.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT count(*) FROM public.customers", user);
        Assert.Equal(1L, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_createrole_admin_sets_default_privileges_for_a_table_creator_it_is_not_a_member_of_and_stays_outside_it()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var migrator = db.NewRoleName("migrator");
        var admin = new NpgsqlConnectionStringBuilder(adminConnectionString).Username;
        // The admin creates the migration role, as the RDS master user would (on PostgreSQL 16+ that gives it ADMIN OPTION only).
        await db.ExecuteAsync($"SET ROLE \"{admin}\"; CREATE ROLE \"{migrator}\"; GRANT CREATE, USAGE ON SCHEMA public TO \"{migrator}\";");
        var onboard = new Onboard(adminConnectionString, db.NewRoleName(), tableCreators: [migrator]);

        var plan = await onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var created = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await db.ExecuteAsync($"SET ROLE \"{migrator}\"; CREATE TABLE public.migrated_later (id int); INSERT INTO public.migrated_later VALUES (5);");

        Assert.True(created.Outcome == StepOutcome.Done, created.Message);
        Assert.Contains(plan.Changes, c => c.StartsWith($"GRANT \"{migrator}\" TO CURRENT_USER", StringComparison.Ordinal));
        Assert.Equal($"REVOKE \"{migrator}\" FROM CURRENT_USER", plan.Changes[^1]);
        Assert.Contains(migrator, plan.Note, StringComparison.Ordinal);
        Assert.Equal(false, await db.ScalarAsync($"SELECT pg_has_role('{admin}', '{migrator}', 'USAGE')"));
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT id FROM public.migrated_later", user);
        Assert.Equal(5, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task On_postgres_16_a_createrole_admin_without_admin_option_on_a_plain_role_is_told_why_and_changes_nothing()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var onboard = new Onboard(adminConnectionString, db.NewRoleName());
        // Created by a superuser: a CREATEROLE admin holds no ADMIN OPTION on it.
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\" PASSWORD 'OldPasswordFromAnEarlierOnboarding1'");
        var version = await db.ServerVersionAsync();

        if (version >= 160000)
        {
            var error = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));
            Assert.Contains("on PostgreSQL 16+ the admin", error.Message, StringComparison.Ordinal);
            Assert.Contains("ADMIN OPTION", error.Message, StringComparison.Ordinal);
            Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_db_role_setting WHERE setrole = '{onboard.User}'::regrole"));
        }
        else
        {
            var created = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
            Assert.True(created.Outcome == StepOutcome.Done, created.Message);
        }
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, "OldPasswordFromAnEarlierOnboarding1"));
        await user.OpenAsync();
    }

    [Fact]
    public async Task A_second_connect_with_a_createrole_admin_finds_everything_in_place()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var first = new Onboard(adminConnectionString, db.NewRoleName());
        await first.CreateUser.ApplyAsync(first.Context(StepNames.CreateUser), CancellationToken.None);
        var second = first.Again();

        var plan = await second.CreateUser.PlanAsync(second.Context(StepNames.CreateUser), CancellationToken.None);
        var verified = await second.VerifyAccess.ApplyAsync(second.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.False(plan.HasChanges, string.Join("\n", plan.Changes));
        Assert.True(verified.Outcome == StepOutcome.Done, verified.Message);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(first.User, (await first.StoredPasswordAsync())!));
        await user.OpenAsync();
    }
}
