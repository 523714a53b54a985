using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary>
/// When an existing role may become the reader (docs/postgres.md, "Reusing a role"): one PrequelBot created for this
/// database, or a plain role. Anything else fails the plan naming why, and nothing is changed.
/// </summary>
public sealed class RoleReuseTests
{
    private const string WriterPassword = "TheApplicationsOwnPassword0123456789";

    private static async Task<TestDatabase> ShopAsync()
    {
        var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE public.orders (id int primary key); INSERT INTO public.orders VALUES (1);");
        return db;
    }

    private static async Task<StepFailedException> RefusedAsync(Onboard onboard)
    {
        var planError = await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));
        await Assert.ThrowsAsync<StepFailedException>(() => onboard.CreateUser.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None));
        Assert.Equal(0, onboard.Secrets.Puts);
        return planError;
    }

    [Fact]
    public async Task A_group_role_with_members_is_refused_naming_the_members()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName("analytics"));
        var (alice, bob) = (db.NewRoleName("alice"), db.NewRoleName("bob"));
        await db.ExecuteAsync($"CREATE ROLE \"{onboard.User}\" NOLOGIN; CREATE ROLE \"{alice}\" LOGIN IN ROLE \"{onboard.User}\"; CREATE ROLE \"{bob}\" LOGIN IN ROLE \"{onboard.User}\";");

        var error = await RefusedAsync(onboard);

        Assert.Contains($"has members {string.Join(", ", new[] { alice, bob }.Order(StringComparer.Ordinal))}: reusing it would give them SELECT too", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot log in (NOLOGIN)", error.Message, StringComparison.Ordinal);
        Assert.Equal(false, await db.ScalarAsync($"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{onboard.User}'"));
        Assert.Equal(false, await db.ScalarAsync($"SELECT has_table_privilege('{onboard.User}', 'public.orders', 'SELECT')"));
    }

    [Fact]
    public async Task A_writer_role_is_refused_with_the_reason_and_its_password_still_works()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName("app"));
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\" PASSWORD '{WriterPassword}'; GRANT SELECT, INSERT, UPDATE ON public.orders TO \"{onboard.User}\";");

        var error = await RefusedAsync(onboard);

        Assert.Contains("holds more than SELECT/USAGE: table orders (INSERT, UPDATE)", error.Message, StringComparison.Ordinal);
        await using var app = new NpgsqlConnection(db.ConnectionStringFor(onboard.User, WriterPassword));
        await app.OpenAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO public.orders VALUES (2)", app);
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        Assert.Equal(0L, await db.ScalarAsync($"SELECT count(*) FROM pg_db_role_setting WHERE setrole = '{onboard.User}'::regrole"));
    }

    [Fact]
    public async Task A_role_that_owns_objects_is_refused_naming_them()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName("owner"));
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\"; CREATE TABLE public.mine (id int); ALTER TABLE public.mine OWNER TO \"{onboard.User}\";");

        var error = await RefusedAsync(onboard);

        Assert.Contains("owns table mine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_that_is_a_member_of_another_role_is_refused()
    {
        await using var db = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName("member"));
        var group = db.NewRoleName("writers");
        await db.ExecuteAsync($"CREATE ROLE \"{group}\"; CREATE USER \"{onboard.User}\" IN ROLE \"{group}\";");

        var error = await RefusedAsync(onboard);

        Assert.Contains($"is a member of {group}, so it holds their privileges too", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_with_privileges_in_another_database_is_refused_because_they_cannot_be_seen_from_here()
    {
        await using var db = await ShopAsync();
        await using var other = await ShopAsync();
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName("elsewhere"));
        await db.ExecuteAsync($"CREATE USER \"{onboard.User}\"");
        await other.ExecuteAsync($"GRANT SELECT ON public.orders TO \"{onboard.User}\"");

        var error = await RefusedAsync(onboard);

        Assert.Contains($"holds privileges in database {other.Name}, which PrequelBot cannot inspect from this database", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_PrequelBot_created_for_another_database_is_refused()
    {
        await using var db = await ShopAsync();
        await using var other = await ShopAsync();
        var first = new Onboard(other.AdminConnectionString, db.NewRoleName());
        await first.CreateUser.ApplyAsync(first.Context(StepNames.CreateUser), CancellationToken.None);
        var onboard = new Onboard(db.AdminConnectionString, first.User);

        var error = await RefusedAsync(onboard);

        Assert.Contains($"was created by PrequelBot for database {other.Name}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_connect_plans_no_change_and_the_original_password_still_logs_in()
    {
        await using var db = await ShopAsync();
        var first = new Onboard(db.AdminConnectionString, db.NewRoleName(), statementTimeout: TimeSpan.FromHours(1));
        await first.CreateUser.ApplyAsync(first.Context(StepNames.CreateUser), CancellationToken.None);
        var original = (await first.StoredPasswordAsync())!;
        var verifier = await db.ScalarAsync($"SELECT rolpassword FROM pg_authid WHERE rolname = '{first.User}'");
        var second = first.Again();

        var plan = await second.CreateUser.PlanAsync(second.Context(StepNames.CreateUser), CancellationToken.None);
        var applied = await second.CreateUser.ApplyAsync(second.Context(StepNames.CreateUser), CancellationToken.None);
        var verified = await second.VerifyAccess.ApplyAsync(second.Context(StepNames.VerifyAccess), CancellationToken.None);

        Assert.False(plan.HasChanges, string.Join("\n", plan.Changes));
        Assert.Contains("its password is unchanged", plan.Detail, StringComparison.Ordinal);
        Assert.Equal(StepOutcome.Done, applied.Outcome);
        Assert.True(verified.Outcome == StepOutcome.Done, verified.Message);
        Assert.Contains("checked through the admin connection", verified.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.Secrets.Puts);
        Assert.False(second.Facts.Values.ContainsKey(FactKeys.UserPasswordSet));
        Assert.Equal(verifier, await db.ScalarAsync($"SELECT rolpassword FROM pg_authid WHERE rolname = '{first.User}'"));
        await using var prequel = new NpgsqlConnection(db.ConnectionStringFor(first.User, original));
        await prequel.OpenAsync();
        await using var select = new NpgsqlCommand("SELECT count(*) FROM public.orders", prequel);
        Assert.Equal(1L, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_role_PrequelBot_created_that_someone_made_a_group_is_refused()
    {
        await using var db = await ShopAsync();
        var first = new Onboard(db.AdminConnectionString, db.NewRoleName());
        await first.CreateUser.ApplyAsync(first.Context(StepNames.CreateUser), CancellationToken.None);
        var member = db.NewRoleName("member");
        await db.ExecuteAsync($"CREATE ROLE \"{member}\" IN ROLE \"{first.User}\"");

        var error = await RefusedAsync(first.Again());

        Assert.Contains($"has members {member}", error.Message, StringComparison.Ordinal);
    }
}
