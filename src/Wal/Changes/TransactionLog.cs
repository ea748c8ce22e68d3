using System.Buffers;
using System.Buffers.Binary;

namespace DataSync.Wal.Changes;

/// <summary>
/// The buffered changes of one transaction, in WAL order, as compact binary entries: kept in
/// pooled memory chunks until the reassembler asks it to spill, then appended to a file of the
/// <see cref="SpillStore"/>, where every later entry goes too. Read back once, file part first, at commit.
/// </summary>
/// <remarks>
/// Entry layout (native byte order; never leaves this process): kind u8, flags u8, table u16,
/// xid u32 (the subtransaction that wrote it), lsn u64, first payload length i32, second payload
/// length i32, then both payloads. Tuples are stored as WAL carries them and decoded only at
/// commit, so aborted work costs a copy and nothing more.
/// </remarks>
internal sealed class TransactionLog : IDisposable
{
    public const int HeaderSize = 24;
    private const int ChunkSize = 64 * 1024;
    private const int FirstChunkSize = 4 * 1024;

    private readonly List<byte[]> _chunks = [];
    private readonly List<int> _chunkUsed = [];
    private readonly SpillStore? _spill;
    private readonly uint _xid;
    private FileStream? _file;

    public TransactionLog(uint xid, SpillStore? spill)
    {
        _xid = xid;
        _spill = spill;
    }

    /// <summary>Bytes of memory chunks held now.</summary>
    public long MemoryBytes { get; private set; }

    /// <summary>Bytes written to the spill file so far.</summary>
    public long SpilledBytes { get; private set; }

    public long EntryCount { get; private set; }

    public bool HasSpilled => _file is not null;

    /// <summary>Bytes appended over the log's whole life, whatever was handed out and cleared since (<see cref="Clear"/>).</summary>
    public long AppendedBytes { get; private set; }

    /// <summary>Holds an entry other than a row change or a TOAST chunk: a catalog event (TRUNCATE, a new file, a definition change, a rewrite).</summary>
    public bool HasEventEntries { get; private set; }

    /// <summary>The last entry appended: its kind and flags (a part of a transaction may end only after a complete row).</summary>
    public BufferedEntryKind LastKind { get; private set; }

    public byte LastFlags { get; private set; }

    /// <summary>Entry flag: the TOAST chunks collected so far are used up once this change is decoded.</summary>
    public const byte ClearsToast = 0x01;

    public void Append(BufferedEntryKind kind, ushort table, uint xid, Lsn lsn, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default) =>
        Append(kind, ClearsToast, table, xid, lsn, default, first, second);

    /// <summary>Appends an entry whose first payload is <paramref name="firstHead"/> followed by <paramref name="first"/>.</summary>
    public void Append(BufferedEntryKind kind, byte flags, ushort table, uint xid, Lsn lsn, ReadOnlySpan<byte> firstHead, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var firstLength = firstHead.Length + first.Length;
        var size = HeaderSize + firstLength + second.Length;
        EntryCount++;
        AppendedBytes += size;
        LastKind = kind;
        LastFlags = flags;
        if (kind >= BufferedEntryKind.Truncate) HasEventEntries = true;
        if (_file is not null)
        {
            // Spilled once, spilled for good: the rest goes through the file's own buffer, so a transaction
            // larger than the memory limit holds no more than that buffer from then on.
            Span<byte> header = stackalloc byte[HeaderSize];
            WriteHeader(header, kind, flags, table, xid, lsn, firstLength, second.Length);
            _file.Write(header);
            _file.Write(firstHead);
            _file.Write(first);
            _file.Write(second);
            SpilledBytes += size;
            _spill!.CountWritten(size);
            return;
        }

        var target = Reserve(size);
        WriteHeader(target, kind, flags, table, xid, lsn, firstLength, second.Length);
        firstHead.CopyTo(target[HeaderSize..]);
        first.CopyTo(target[(HeaderSize + firstHead.Length)..]);
        second.CopyTo(target[(HeaderSize + firstLength)..]);
    }

    private static void WriteHeader(Span<byte> target, BufferedEntryKind kind, byte flags, ushort table, uint xid, Lsn lsn, int firstLength, int secondLength)
    {
        target[0] = (byte)kind;
        target[1] = flags;
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], table);
        BinaryPrimitives.WriteUInt32LittleEndian(target[4..], xid);
        BinaryPrimitives.WriteUInt64LittleEndian(target[8..], lsn.Value);
        BinaryPrimitives.WriteInt32LittleEndian(target[16..], firstLength);
        BinaryPrimitives.WriteInt32LittleEndian(target[20..], secondLength);
    }

    private Span<byte> Reserve(int size)
    {
        var last = _chunks.Count - 1;
        if (last < 0 || _chunks[last].Length - _chunkUsed[last] < size)
        {
            // Small transactions (the many) start small; chunks double up to 64 KiB. What counts
            // against the memory limit is what is rented, not what is used.
            var wanted = last < 0 ? FirstChunkSize : Math.Min(ChunkSize, 2 * _chunks[last].Length);
            var chunk = ArrayPool<byte>.Shared.Rent(Math.Max(wanted, size));
            _chunks.Add(chunk);
            _chunkUsed.Add(0);
            MemoryBytes += chunk.Length;
            last++;
        }

        var start = _chunkUsed[last];
        _chunkUsed[last] = start + size;
        return _chunks[last].AsSpan(start, size);
    }

    /// <summary>Moves everything held in memory to the spill file; entries appended afterwards are written there directly.</summary>
    public void Spill()
    {
        if (_spill is null) throw new InvalidOperationException("no spill folder was configured");
        if (_chunks.Count == 0) return;
        _file ??= _spill.Create(_xid);
        long written = 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            _file.Write(_chunks[i], 0, _chunkUsed[i]);
            written += _chunkUsed[i];
        }

        SpilledBytes += written;
        _spill.CountWritten(written);

        ReleaseChunks();
    }

    private void ReleaseChunks()
    {
        foreach (var chunk in _chunks) ArrayPool<byte>.Shared.Return(chunk);
        _chunks.Clear();
        _chunkUsed.Clear();
        MemoryBytes = 0;
    }

    /// <summary>Reads the entries back in order: the spilled ones, then those still in memory. Append nothing meanwhile.</summary>
    public Reader Read()
    {
        _file?.Flush();
        return new Reader(this);
    }

    /// <summary>
    /// Forgets the entries held (they were handed out ahead of the commit and read); the transaction goes on, and its
    /// next entries start the log anew. A log that spilled keeps its (emptied) file for them.
    /// </summary>
    public void Clear()
    {
        ReleaseChunks();
        if (_file is not null)
        {
            _file.SetLength(0);
            _file.Position = 0;
        }

        SpilledBytes = 0;
        EntryCount = 0;
    }

    public void Dispose()
    {
        ReleaseChunks();
        _file?.Dispose();
        _file = null;
    }

    /// <summary>One entry; its spans are valid until the reader moves on.</summary>
    public readonly ref struct Entry
    {
        internal Entry(ReadOnlySpan<byte> bytes)
        {
            Kind = (BufferedEntryKind)bytes[0];
            Flags = bytes[1];
            Table = BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]);
            Xid = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
            Lsn = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
            var firstLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
            var secondLength = BinaryPrimitives.ReadInt32LittleEndian(bytes[20..]);
            First = bytes.Slice(HeaderSize, firstLength);
            Second = bytes.Slice(HeaderSize + firstLength, secondLength);
        }

        public BufferedEntryKind Kind { get; }
        public byte Flags { get; }
        public ushort Table { get; }
        public uint Xid { get; }
        public Lsn Lsn { get; }
        public ReadOnlySpan<byte> First { get; }
        public ReadOnlySpan<byte> Second { get; }
    }

    /// <summary>Walks the entries: a buffered sequential read of the spill file, then the memory chunks in place.</summary>
    public sealed class Reader
    {
        /// <summary>
        /// How much of the spill file one read brings in. Entries are parsed where they lie in this block: a
        /// spilled transaction of a million rows is a million entries, and reading each through the file's own
        /// buffer (two calls per entry) cost as much as decoding its tuple (docs/benchmarks.md, session 13).
        /// </summary>
        internal const int FileBlockSize = 256 * 1024;

        private readonly TransactionLog _log;
        private readonly long _fileLength;
        // The spill file's bytes up to here are in _block[.._blockEnd] or were walked already.
        private long _filePosition;
        private byte[] _block = [];
        private int _blockOffset;
        private int _blockEnd;
        private int _chunk;
        private int _chunkOffset;
        private byte[] _current = [];
        private int _currentOffset;
        private int _currentLength;

        internal Reader(TransactionLog log)
        {
            _log = log;
            _fileLength = log._file?.Length ?? 0;
        }

        public Entry Current => new(_current.AsSpan(_currentOffset, _currentLength));

        public bool MoveNext()
        {
            if (_blockOffset < _blockEnd || _filePosition < _fileLength) return ReadFromFile();
            while (_chunk < _log._chunks.Count)
            {
                if (_chunkOffset < _log._chunkUsed[_chunk])
                {
                    var chunk = _log._chunks[_chunk];
                    var length = EntryLength(chunk.AsSpan(_chunkOffset));
                    _current = chunk;
                    _currentOffset = _chunkOffset;
                    _currentLength = length;
                    _chunkOffset += length;
                    return true;
                }

                _chunk++;
                _chunkOffset = 0;
            }

            return false;
        }

        private bool ReadFromFile()
        {
            if (_blockEnd - _blockOffset < HeaderSize || _blockEnd - _blockOffset < EntryLength(_block.AsSpan(_blockOffset)))
                Refill();
            var length = EntryLength(_block.AsSpan(_blockOffset));
            _current = _block;
            _currentOffset = _blockOffset;
            _currentLength = length;
            _blockOffset += length;
            return true;
        }

        /// <summary>Moves the unread rest of the block to its start and fills the block up from the file: at least one whole entry.</summary>
        private void Refill()
        {
            var rest = _blockEnd - _blockOffset;
            var block = _block.Length >= FileBlockSize ? _block : new byte[FileBlockSize];
            _block.AsSpan(_blockOffset, rest).CopyTo(block);
            _block = block;
            _blockOffset = 0;
            _blockEnd = rest;
            Fill(HeaderSize);
            Fill(EntryLength(_block));
        }

        /// <summary>
        /// Reads until the block holds at least <paramref name="wanted"/> bytes, and on while more fit. An entry larger
        /// than the block (a TOAST chunk never is; a wide row image can be) first makes the block as large as itself.
        /// </summary>
        private void Fill(int wanted)
        {
            if (wanted > _block.Length) Array.Resize(ref _block, wanted);
            while (_blockEnd < wanted || (_blockEnd < _block.Length && _filePosition < _fileLength))
            {
                var read = RandomAccess.Read(_log._file!.SafeFileHandle, _block.AsSpan(_blockEnd, (int)Math.Min(_block.Length - _blockEnd, _fileLength - _filePosition)), _filePosition);
                if (read <= 0) throw new EndOfStreamException($"the spill file of transaction {_log._xid} ends at {_filePosition} of its {_fileLength} bytes");
                _filePosition += read;
                _blockEnd += read;
            }
        }

        private static int EntryLength(ReadOnlySpan<byte> header) =>
            HeaderSize + BinaryPrimitives.ReadInt32LittleEndian(header[16..]) + BinaryPrimitives.ReadInt32LittleEndian(header[20..]);
    }
}
