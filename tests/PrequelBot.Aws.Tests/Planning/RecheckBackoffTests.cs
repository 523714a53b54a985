using PrequelBot.Aws.Planning;

namespace PrequelBot.Aws.Tests.Planning;

public class RecheckBackoffTests
{
    /// <summary>A random source that always answers the same value.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    [Theory]
    [InlineData(1, 15)]
    [InlineData(2, 30)]
    [InlineData(3, 60)]
    [InlineData(4, 60)]
    [InlineData(50, 60)]
    public void Without_jitter_delays_double_from_15_seconds_to_a_60_second_cap(int attempt, int seconds)
    {
        var backoff = new RecheckBackoff(new FixedRandom(0.5));

        Assert.Equal(TimeSpan.FromSeconds(seconds), backoff.Delay(attempt));
    }

    [Theory]
    [InlineData(0.0, 12)]
    [InlineData(0.999999, 18)]
    public void Jitter_stays_within_20_percent(double random, int expectedSeconds)
    {
        var backoff = new RecheckBackoff(new FixedRandom(random));

        Assert.Equal(expectedSeconds, backoff.Delay(1).TotalSeconds, precision: 3);
    }

    [Fact]
    public void Real_random_delays_stay_in_bounds()
    {
        var backoff = new RecheckBackoff(new Random(42));

        var delays = Enumerable.Range(0, 200).Select(_ => backoff.Delay(5).TotalSeconds).ToList();

        Assert.All(delays, d => Assert.InRange(d, 48, 72));
        Assert.True(delays.Distinct().Count() > 1);
    }
}
