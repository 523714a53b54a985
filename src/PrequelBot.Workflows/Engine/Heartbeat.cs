namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Keeps a lease alive while work runs: renews it every <c>interval</c> (well inside the lease) until disposed. When a
/// renewal says the lease is gone (another node took it over, or the onboarding was cancelled) it cancels
/// <see cref="Token"/>, so the work stops at its next safe point. Used by steps and by the chat sync.
/// </summary>
public sealed class Heartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Starts beating at once: every <paramref name="interval"/>, <paramref name="renew"/> the lease (false = it is lost; an exception is retried at the next beat).</summary>
    public Heartbeat(TimeSpan interval, Func<CancellationToken, Task<bool>> renew, TimeProvider time, CancellationToken outer)
    {
        ArgumentNullException.ThrowIfNull(renew);
        _lost = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _loop = BeatAsync(interval, renew, time);
    }

    /// <summary>Cancelled when the work must stop: the outer token fired or the lease was lost.</summary>
    public CancellationToken Token => _lost.Token;

    /// <summary>True when the lease was lost (rather than the outer token cancelled).</summary>
    public bool LeaseLost { get; private set; }

    private async Task BeatAsync(TimeSpan interval, Func<CancellationToken, Task<bool>> renew, TimeProvider time)
    {
        while (!_stop.IsCancellationRequested && !_lost.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, _stop.Token);
                if (await renew(_stop.Token)) continue;
                LeaseLost = true;
                await _lost.CancelAsync();
                return;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed renewal (the store briefly unreachable) is retried at the next beat; the lease outlasts a few.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _lost.Dispose();
    }
}
