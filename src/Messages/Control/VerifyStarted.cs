namespace DataSync.Messages.Control;

/// <summary>The daemon took a <see cref="VerifyRequest"/> and runs it as <paramref name="Job"/>, which the CLI follows with progress requests.</summary>
public sealed record VerifyStarted(string Job) : IDataSyncMessage;
