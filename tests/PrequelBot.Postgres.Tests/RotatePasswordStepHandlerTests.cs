using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary><c>rotate-password</c> of <c>rotate</c> on the real server.</summary>
public sealed class RotatePasswordStepHandlerTests
{
    private static async Task<PostgresException?> LoginAsync(TestDatabase db, string user, string password)
    {
        await using var connection = new NpgsqlConnection(db.ConnectionStringFor(user, password));
        try
        {
            await connection.OpenAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e;
        }
    }

    [Fact]
    public async Task The_new_password_logs_in_the_old_one_is_refused_and_verify_access_logs_in_with_the_new_one()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE public.customers (id int primary key); INSERT INTO public.customers VALUES (1);");
        var connect = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await connect.CreateUser.ApplyAsync(connect.Context(StepNames.CreateUser), CancellationToken.None);
        var old = (await connect.StoredPasswordAsync())!;
        var rotate = connect.Again();
        rotate.Facts.Changes.SetRole(connect.User, created: true);

        var plan = await rotate.RotatePassword.PlanAsync(rotate.Context(StepNames.RotatePassword), CancellationToken.None);
        var result = await rotate.RotatePassword.ApplyAsync(rotate.Context(StepNames.RotatePassword), CancellationToken.None);
        var fresh = (await rotate.StoredPasswordAsync())!;
        var verified = await rotate.VerifyAccess.ApplyAsync(rotate.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.Equal($"ALTER ROLE \"{connect.User}\" PASSWORD '********' (a new generated password, sent as a SCRAM-SHA-256 verifier)", Assert.Single(plan.Changes));
        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.NotEqual(old, fresh);
        Assert.True(fresh.Length >= 32 && fresh.All(char.IsAsciiLetterOrDigit));
        Assert.Null(await LoginAsync(db, connect.User, fresh));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, (await LoginAsync(db, connect.User, old))?.SqlState);
        Assert.StartsWith("SCRAM-SHA-256$", (string)(await db.ScalarAsync($"SELECT rolpassword FROM pg_authid WHERE rolname = '{connect.User}'"))!, StringComparison.Ordinal);
        Assert.Equal(StepOutcome.Done, verified.Outcome);
        Assert.DoesNotContain("admin connection", verified.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rerun_after_a_crash_sets_the_same_stored_password_again()
    {
        await using var db = await TestDatabase.CreateAsync();
        var connect = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await connect.CreateUser.ApplyAsync(connect.Context(StepNames.CreateUser), CancellationToken.None);
        var rotate = connect.Again();
        rotate.Facts.Changes.SetRole(connect.User, created: true);

        await rotate.RotatePassword.ApplyAsync(rotate.Context(StepNames.RotatePassword), CancellationToken.None);
        var first = await rotate.StoredPasswordAsync();
        await rotate.RotatePassword.ApplyAsync(rotate.Context(StepNames.RotatePassword), CancellationToken.None);

        Assert.Equal(first, await rotate.StoredPasswordAsync());
        Assert.Null(await LoginAsync(db, connect.User, first!));
    }

    [Fact]
    public async Task A_role_PrequelBot_did_not_create_is_not_rotated()
    {
        await using var db = await TestDatabase.CreateAsync();
        var role = db.NewRoleName("theirs");
        await db.ExecuteAsync($"CREATE ROLE \"{role}\" LOGIN PASSWORD 'their-own-password-1'");
        var rotate = new Onboard(db.AdminConnectionString, role);
        rotate.Facts.Changes.SetRole(role, created: false);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => rotate.RotatePassword.PlanAsync(rotate.Context(StepNames.RotatePassword), CancellationToken.None));

        Assert.Contains("was not created by PrequelBot", error.Message, StringComparison.Ordinal);
        Assert.Null(await LoginAsync(db, role, "their-own-password-1"));
    }
}
