using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PrequelBot.Postgres.Users;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

public sealed class SecretLeakTests
{
    private sealed class CapturingLogger<T> : ILogger<T>
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception) + " " + exception);
    }

    [Fact]
    public async Task Password_and_admin_password_never_reach_logs_or_step_messages()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE TABLE public.t (id int);");
        var onboard = new Onboard(db.AdminConnectionString, db.NewRoleName());
        var createLog = new CapturingLogger<CreateUserStepHandler>();
        var verifyLog = new CapturingLogger<VerifyAccessStepHandler>();
        var create = new CreateUserStepHandler(onboard.AdminSource, onboard.Secrets, createLog);
        var verify = new VerifyAccessStepHandler(onboard.AdminSource, onboard.Secrets, verifyLog);

        var plan = await create.PlanAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var created = await create.ApplyAsync(onboard.Context(StepNames.CreateUser), CancellationToken.None);
        var generated = (await onboard.StoredPasswordAsync())!;
        var verified = await verify.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);
        await onboard.Secrets.PutAsync(onboard.OnboardingId, SecretNames.UserPassword, "WrongButSecret0123456789abcdefghij", CancellationToken.None);
        var failed = await verify.ApplyAsync(onboard.Context(StepNames.VerifyAccess), CancellationToken.None);

        var adminPassword = new Npgsql.NpgsqlConnectionStringBuilder(db.AdminConnectionString).Password!;
        var everything = string.Join("\n", createLog.Lines.Concat(verifyLog.Lines).Concat(plan.Changes)
            .Append(plan.Note).Append(created.Message).Append(verified.Message).Append(failed.Message));
        Assert.Equal(StepOutcome.Done, verified.Outcome);
        Assert.Equal(StepOutcome.Failed, failed.Outcome);
        Assert.NotEmpty(createLog.Lines);
        Assert.DoesNotContain("WrongButSecret0123456789abcdefghij", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(generated, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(adminPassword, everything, StringComparison.Ordinal);
        Assert.DoesNotContain("SCRAM-SHA-256$", everything, StringComparison.Ordinal);
    }
}
