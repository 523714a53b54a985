using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary><c>drop-user</c> of <c>disconnect</c> on the real server: only the role the record says this bot created goes.</summary>
public sealed class DropUserStepHandlerTests
{
    private static async Task<long> CountAsync(TestDatabase db, string sql) => Convert.ToInt64(await db.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_created_reader_cannot_write_and_after_drop_user_it_is_gone_with_its_objects_reassigned_on_every_database()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var other = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE public.customers (id int primary key); INSERT INTO public.customers VALUES (1); CREATE TABLE public.scratch (id int);");
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        Assert.Equal(StepOutcome.Done, (await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None)).Outcome);
        Assert.Equal((onboard.User, true), (onboard.Facts.Changes.RoleName, onboard.Facts.Changes.RoleCreated));
        var password = (await onboard.StoredPasswordAsync())!;
        await using (var reader = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, password)))
        {
            await reader.OpenAsync();
            await using var write = new NpgsqlCommand("INSERT INTO public.customers VALUES (2)", reader);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => write.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
        }
        // Things the role came to own or be granted later, here and on another database of the instance.
        await db.ExecuteAsync($"ALTER TABLE public.scratch OWNER TO \"{onboard.User}\"");
        await other.ExecuteAsync($"CREATE TABLE public.elsewhere (id int); GRANT SELECT ON public.elsewhere TO \"{onboard.User}\"");

        var plan = await onboard.DropUser.PlanAsync(onboard.Context(StepNames.DropUser), CancellationToken.None);
        var result = await onboard.DropUser.ApplyAsync(onboard.Context(StepNames.DropUser), CancellationToken.None);

        Assert.Contains(plan.Changes, c => c.StartsWith($"on database {db.Name}: REASSIGN OWNED BY \"{onboard.User}\"", StringComparison.Ordinal));
        Assert.Contains(plan.Changes, c => c.StartsWith($"on database {other.Name}: REASSIGN OWNED BY \"{onboard.User}\"", StringComparison.Ordinal));
        Assert.Equal($"DROP ROLE \"{onboard.User}\"", plan.Changes[^1]);
        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Equal(0, await CountAsync(db, $"SELECT count(*) FROM pg_roles WHERE rolname = '{onboard.User}'"));
        Assert.Equal("postgres", await db.ScalarAsync("SELECT tableowner::text FROM pg_tables WHERE schemaname = 'public' AND tablename = 'scratch'"));
        Assert.Equal(1, await CountAsync(other, "SELECT count(*) FROM pg_tables WHERE tablename = 'elsewhere'"));
        await using (var gone = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, password)))
        {
            var login = await Assert.ThrowsAsync<PostgresException>(() => gone.OpenAsync());
            Assert.Equal(PostgresErrorCodes.InvalidPassword, login.SqlState);
        }
        // Re-running changes nothing.
        Assert.False((await onboard.DropUser.PlanAsync(onboard.Context(StepNames.DropUser), CancellationToken.None)).HasChanges);
        Assert.Equal(StepOutcome.Done, (await onboard.DropUser.ApplyAsync(onboard.Context(StepNames.DropUser), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_role_that_existed_before_the_connect_is_left_alone_and_the_plan_says_so()
    {
        await using var db = await TestDatabase.CreateAsync();
        var role = db.NewRoleName("existing");
        await db.ExecuteAsync($"CREATE ROLE \"{role}\" LOGIN PASSWORD 'pre-existing-pw-1'");
        var onboard = new Onboard(db.AdminConnectionString, role);
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        Assert.Equal((role, false), (onboard.Facts.Changes.RoleName, onboard.Facts.Changes.RoleCreated));

        var plan = await onboard.DropUser.PlanAsync(onboard.Context(StepNames.DropUser), CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Equal($"role {role} existed before the connect; left alone", plan.Detail);
        Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM pg_roles WHERE rolname = '{role}'"));
    }

    [Fact]
    public async Task A_recorded_role_whose_PrequelBot_marker_was_removed_is_left_alone()
    {
        await using var db = await TestDatabase.CreateAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        await db.ExecuteAsync($"COMMENT ON ROLE \"{onboard.User}\" IS 'taken over by the data team'");

        var plan = await onboard.DropUser.PlanAsync(onboard.Context(StepNames.DropUser), CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Contains("no longer carries PrequelBot's marker", plan.Detail, StringComparison.Ordinal);
    }
}
