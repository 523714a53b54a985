using System.Reflection;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// Hangfire jobs built from a method and its arguments, the same <see cref="Job"/> that <c>Enqueue&lt;T&gt;(j =&gt; …)</c>
/// makes from an expression (pinned by JobCallTests). The expression form builds a tree per call and compiles an
/// evaluator per call shape, which loads System.Linq.Expressions and the IL emitter into every process for what is
/// a list of ids (bench/README.md, "Idle cost"). The queue still comes from the method's <see cref="QueueAttribute"/>.
/// </summary>
internal static class JobCall
{
    /// <summary>The public instance method <paramref name="name"/> of <typeparamref name="T"/>; throws if there is none or several.</summary>
    public static MethodInfo Method<T>(string name) =>
        typeof(T).GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
        ?? throw new MissingMethodException(typeof(T).FullName, name);

    /// <summary>The job calling <paramref name="method"/> on an instance of its declaring type.</summary>
    public static Job Of(MethodInfo method, params object[] args) => new(method, args);

    public static void Enqueue(this IBackgroundJobClient jobs, MethodInfo method, params object[] args) =>
        jobs.Create(Of(method, args), new EnqueuedState());

    public static void Schedule(this IBackgroundJobClient jobs, TimeSpan delay, MethodInfo method, params object[] args) =>
        jobs.Create(Of(method, args), new ScheduledState(delay));
}
