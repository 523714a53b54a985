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
    public async Task A_createrole_admin_reuses_an_existing_role_and_rotates_its_password()
    {
        var (db, adminConnectionString) = await DatabaseOwnedByCreateRoleAdminAsync();
        await using var _ = db;
        var onboard = new Onboard(adminConnectionString, db.NewRoleName());
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\" PASSWORD 'OldPasswordFromAnEarlierOnboarding1'");

        var created = await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);

        Assert.True(created.Outcome == StepOutcome.Done, created.Message);
        await using var user = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, (await onboard.StoredPasswordAsync())!));
        await user.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT count(*) FROM public.customers", user);
        Assert.Equal(1L, await select.ExecuteScalarAsync());
    }
}
