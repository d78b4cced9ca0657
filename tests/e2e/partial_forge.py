"""A worker's partial, encoded in Python: what a hostile (or just independent) worker can upload.

The layout follows the Swift encoder exactly:

- the frame (Sources/TallySketches/Framing/ChecksummedFrame.swift): magic "TLYP", version byte (4),
  body length as UInt64 little-endian, the body, then the CRC-32C (Castagnoli, reflected polynomial
  0x82F63B78; CRC32C.swift) of every preceding byte of the frame, as UInt32 little-endian;
- integers (Sources/TallySketches/Bytes/ByteWriter.swift): LEB128 varints (`writeVarUInt`), zigzag
  varints for signed values (`writeVarInt`), length-prefixed byte strings (`writeLengthPrefixed`);
- the body (Sources/TallyReport/Partial/PartialEncoding.swift): the statistics — objects, bytes,
  events in the window, service-account events, lines, events, other lines (signed varints), the
  malformed counts per reason (a count, then signed varints), the malformed-line samples (a count,
  then object, line, reason), the event span (a flag byte, then its two ends), the engine revision —
  then the row key (one byte: 1 by user), the user count and the users in strictly increasing email
  byte order: email, success, DNS failures, other failures, relayed successes, bytes transferred,
  bytes received (unsigned varints), last and first access (signed varints, microseconds), the
  distinct devices, the distinct client IPs, the top client IPs, then three more heavy-hitters
  summaries (the Resource's addresses, networks and protocols: empty for a report by user);
- a distinct counter (DistinctCounter+Serialization.swift): mode 0 (exact) with a varint count and
  the 64-bit hashes as UInt64 little-endian, strictly ascending; or mode 1 (approximate) with the
  precision byte (14) and the 16,384 HyperLogLog registers (HyperLogLogRegisters+Serialization.swift)
  in the smaller of two forms: dense (tag 1, four 6-bit registers per 3 bytes) or sparse (tag 2, a
  varint count of non-zero registers then (gap varint, value byte) pairs);
- the top client IPs (HeavyHitters+Serialization.swift): varint capacity (2048), varint total,
  varint entry count, then the entries sorted by their encoded key bytes (length prefix, key), each
  the length-prefixed IP and a varint count;
- after the users, the index of every 256th user (PartialIndex.swift) and its offset, as
  `encode_partial` writes them.

`encode_partial(statistics, users)` returns the framed bytes; `stable_hash` gives distinct 64-bit
hashes for device ids and IPs (any distinct values are accepted: the coordinator cannot tell them
from StableHash's)."""

import hashlib
import struct

MAGIC = b"TLYP"
FORMAT_VERSION = 4
ENGINE_REVISION = 3
ROWS_BY_USER = 1
INDEX_STRIDE = 256
REGISTER_COUNT = 1 << 14
PRECISION = 14
MAXIMUM_RANK = 64 - PRECISION + 1           # 51
EXACT_LIMIT = 4096
HEAVY_HITTERS_CAPACITY = 2048
# Sources/TallyFormats/Records/MalformedReason.swift, in declaration order.
MALFORMED_REASONS = ("invalid_utf8", "field_count", "missing_header", "bad_timestamp", "bad_byte_count", "bad_json",
                     "missing_field")

U64 = (1 << 64) - 1

# ------------------------------------------------------------------ CRC-32C, table-driven

_CRC_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0x82F63B78 if _crc & 1 else _crc >> 1
    _CRC_TABLE.append(_crc)


def crc32c(data, previous=0):
    """CRC-32C of `data`, continuing `previous` (crc32c(b"123456789") == 0xE3069283)."""
    crc = previous ^ 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283

# ------------------------------------------------------------------ integers


def var_uint(value):
    """LEB128: 7 bits a byte, low group first, high bit on every byte but the last."""
    assert 0 <= value <= U64, value
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def var_int(value):
    """Zigzag then LEB128, for an Int64 (0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3)."""
    assert -(1 << 63) <= value < (1 << 63), value
    return var_uint(((value << 1) ^ (value >> 63)) & U64)


def length_prefixed(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return var_uint(len(data)) + bytes(data)


def frame(body, version=FORMAT_VERSION, magic=MAGIC):
    head = magic + bytes([version]) + struct.pack("<Q", len(body))
    return head + body + struct.pack("<I", crc32c(head + body))


# ------------------------------------------------------------------ sketches


def stable_hash(text):
    """A 64-bit hash of a device id or IP (not StableHash's values, but as good for an exact counter)."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def exact_counter(hashes):
    """Mode 0: the distinct hashes, ascending."""
    values = sorted(set(hashes))
    assert len(values) <= EXACT_LIMIT, f"an exact counter holds at most {EXACT_LIMIT} hashes"
    assert all(0 <= h <= U64 for h in values)
    return b"\x00" + var_uint(len(values)) + b"".join(struct.pack("<Q", h) for h in values)


def registers_form(registers):
    """The register array in the smaller of the sparse and dense forms, as the Swift encoder picks."""
    registers = bytes(registers)
    assert len(registers) == REGISTER_COUNT, len(registers)
    assert max(registers) <= MAXIMUM_RANK, max(registers)
    sparse = bytearray()
    non_zero, previous = 0, -1
    for index, value in enumerate(registers):
        if value:
            sparse += var_uint(index - previous - 1) + bytes([value])
            non_zero += 1
            previous = index
    sparse = var_uint(non_zero) + bytes(sparse)
    dense_size = REGISTER_COUNT // 4 * 3
    if len(sparse) < dense_size:
        return b"\x02" + sparse
    dense = bytearray()
    for group in range(0, REGISTER_COUNT, 4):
        packed = registers[group] | registers[group + 1] << 6 | registers[group + 2] << 12 | registers[group + 3] << 18
        dense += bytes([packed & 0xFF, (packed >> 8) & 0xFF, (packed >> 16) & 0xFF])
    return b"\x01" + bytes(dense)


def approximate_counter(registers):
    """Mode 1: precision 14 and the 16,384 registers (bytes or a list of ints, each 0...51)."""
    return b"\x01" + bytes([PRECISION]) + registers_form(registers)


def counter(hashes=None, registers=None):
    if registers is not None:
        assert hashes is None, "give hashes or registers, not both"
        return approximate_counter(registers)
    return exact_counter(hashes or [])


def heavy_hitters(entries, total=None, capacity=HEAVY_HITTERS_CAPACITY):
    """entries: [(ip, count)]; total: the connections counted (default: the sum of the counts)."""
    encoded = []
    for key, count in entries:
        assert count > 0, "a heavy hitters counter is never zero"
        encoded.append((length_prefixed(key), count))
    encoded.sort(key=lambda e: (e[0], e[1]))
    if total is None:
        total = sum(c for _, c in encoded)
    out = var_uint(capacity) + var_uint(total) + var_uint(len(encoded))
    return out + b"".join(k + var_uint(c) for k, c in encoded)


# ------------------------------------------------------------------ the partial

STATISTIC_KEYS = ("objects", "bytes", "events_in_window", "service_account_events", "lines", "events", "not_events")


def encode_statistics(s):
    out = bytearray()
    for key in STATISTIC_KEYS:
        out += var_int(s.get(key, 0))
    malformed = list(s.get("malformed", ()))
    out += var_uint(len(malformed))
    for value in malformed:
        out += var_int(value)
    samples = list(s.get("samples", ()))
    out += var_uint(len(samples))
    for sample in samples:
        if isinstance(sample, dict):
            sample = (sample["object"], sample["line"], sample["reason"])
        obj, line, reason = sample
        out += length_prefixed(obj) + var_int(line) + length_prefixed(reason)
    span = s.get("event_span")
    if span is None:
        out += b"\x00"
    else:
        earliest, latest = span
        out += b"\x01" + var_int(earliest) + var_int(latest)
    out += var_int(s.get("engine_revision", ENGINE_REVISION) or 0)
    return bytes(out)


def encode_user(u):
    email = u["email"].encode("utf-8") if isinstance(u["email"], str) else bytes(u["email"])
    out = bytearray(length_prefixed(email))
    for key in ("success", "dns_failures", "other_failures", "relayed", "bytes_transferred", "bytes_received"):
        out += var_uint(u.get(key, 0))
    out += var_int(u["last_access"])
    out += var_int(u.get("first_access", u["last_access"]))
    out += counter(u.get("devices"), u.get("device_registers"))
    out += counter(u.get("ip_hashes"), u.get("ip_registers"))
    top = u.get("top_ips", ())
    out += heavy_hitters(top, u.get("top_ips_total"))
    out += heavy_hitters(()) * 3            # the Resource measures a report by user keeps empty
    return bytes(out)


def email_bytes(u):
    return u["email"].encode("utf-8") if isinstance(u["email"], str) else bytes(u["email"])


def encode_partial(statistics, users, sort_users=True):
    """The framed partial. statistics: objects, bytes, events_in_window, service_account_events,
    lines, events, not_events, malformed (counts in MALFORMED_REASONS order), samples
    [(object, line, reason)], event_span (earliest, latest) microseconds or None, engine_revision.
    users: email, success, dns_failures, other_failures, relayed, bytes_transferred, bytes_received,
    last_access (microseconds), devices (hashes) or device_registers (16,384 values), ip_hashes or
    ip_registers, top_ips [(ip, count)] and optionally top_ips_total. Users are put in strictly
    increasing email byte order (sort_users=False keeps the given order, to forge a bad one)."""
    users = list(users)
    if sort_users:
        users.sort(key=email_bytes)
        emails = [email_bytes(u) for u in users]
        assert len(set(emails)) == len(emails), "an email appears twice"
    body = bytearray(encode_statistics(statistics) + bytes([ROWS_BY_USER]) + var_uint(len(users)))
    index = []
    for i, u in enumerate(users):
        if i % INDEX_STRIDE == 0:
            index.append((email_bytes(u), len(body)))
        body += encode_user(u)
    index_offset = len(body)
    body += var_uint(len(index)) + b"".join(length_prefixed(e) + var_uint(o) for e, o in index)
    body += struct.pack("<Q", index_offset)
    return frame(bytes(body))


# ------------------------------------------------------------------ a plausible partial for known events


def plausible_partial(task, events, window):
    """(statistics, users) of a partial that fits what the coordinator knows of `task` (a LeaseGrant's
    task: objects with names and sizes) and the job's `window` (from, to) in microseconds, for the
    events the caller wrote into the task's objects.

    events: {object name: (line count, [event dict])}, each event with time (microseconds), user
    (email, or None for a service account), status ("NORMAL", "DNS_ERROR", other: failure), tx, rx,
    ip, device, relayed (bool). The result is what an honest worker reads (up to the hash values)."""
    names = [o["name"] for o in task["objects"]]
    lines = events_total = 0
    in_window, service = [], 0
    times = []
    for name in names:
        count, evs = events.get(name, (0, []))
        lines += count
        events_total += len(evs)
        for e in evs:
            times.append(e["time"])
            if window[0] <= e["time"] < window[1]:
                if e.get("user") is None:
                    service += 1
                in_window.append(e)
    statistics = {
        "objects": len(names), "bytes": sum(o["size"] for o in task["objects"]),
        "events_in_window": len(in_window), "service_account_events": service,
        "lines": lines, "events": events_total, "not_events": lines - events_total,
        "malformed": [0] * len(MALFORMED_REASONS), "samples": [],
        "event_span": (min(times), max(times)) if times else None, "engine_revision": ENGINE_REVISION,
    }
    by_user = {}
    for e in in_window:
        if e.get("user") is None:
            continue
        u = by_user.setdefault(e["user"], {"email": e["user"], "success": 0, "dns_failures": 0, "other_failures": 0,
                                           "relayed": 0, "bytes_transferred": 0, "bytes_received": 0,
                                           "last_access": e["time"], "devices": set(), "ips": {}})
        if e["status"] == "NORMAL":
            u["success"] += 1
            u["relayed"] += 1 if e.get("relayed") else 0
        elif e["status"] == "DNS_ERROR":
            u["dns_failures"] += 1
        else:
            u["other_failures"] += 1
        u["bytes_transferred"] += e.get("tx", 0)
        u["bytes_received"] += e.get("rx", 0)
        u["last_access"] = max(u["last_access"], e["time"])
        if e.get("device"):
            u["devices"].add(stable_hash(e["device"]))
        if e.get("ip"):
            u["ips"][e["ip"]] = u["ips"].get(e["ip"], 0) + 1
    users = []
    for u in by_user.values():
        ips = u.pop("ips")
        u["devices"] = sorted(u["devices"])
        u["ip_hashes"] = sorted(stable_hash(ip) for ip in ips)
        u["top_ips"] = sorted(ips.items())
        users.append(u)
    return statistics, users
