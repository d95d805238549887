"""A reader of dirmail queue files (format version 1, doc/queue-format.md).

read(path) checks the whole file the way the C reader does and returns a
dict; a damaged or incomplete file raises QueueFileError.  list_queue()
lists the files of a queue directory.  Run as a script, it prints one
summary line for each file named on the command line, or with
"--list QUEUE_DIR" the queue and id of each file.
"""

import os
import re
import sys

MAGIC = b"DMQ1 "
HEADER_LEN = 47
END = b"E0:\n"
SUBDIRS = ("incoming", "active", "deferred", "hold", "corrupt", "bounce")
_HEADER = re.compile(rb"DMQ1 ([0-9]{20}) ([0-9]{20})\n\Z")
_LENGTH = re.compile(rb"(0|[1-9][0-9]{0,8}):")
_ID = re.compile(r"[0-9A-F]{12,32}\Z")
_ARRIVAL = re.compile(r"[0-9]{1,19}(\.[0-9]{6})?\Z")


class QueueFileError(ValueError):
    """The file is not a complete, valid queue file."""


def _header(data):
    """Return (content_length, content_offset) from the first line."""
    m = _HEADER.match(data[:HEADER_LEN])
    if m is None:
        raise QueueFileError("bad header (not a version 1 queue file)")
    length, offset = int(m.group(1)), int(m.group(2))
    if offset == 0:
        raise QueueFileError("incomplete (header not completed)")
    if offset <= HEADER_LEN or len(data) != offset + length + len(END):
        raise QueueFileError("size %d does not match the header" % len(data))
    if data[offset + length:] != END:
        raise QueueFileError("no end record after the content")
    return length, offset


def _records(envelope):
    """Split the envelope bytes into (type, bytes) records."""
    pos, out = 0, []
    while pos < len(envelope):
        kind = envelope[pos:pos + 1]
        m = _LENGTH.match(envelope, pos + 1)
        if not kind.isalpha() or not kind.isupper() or m is None:
            raise QueueFileError("bad record at byte %d" % (HEADER_LEN + pos))
        start = m.end()
        end = start + int(m.group(1))
        if end >= len(envelope) or envelope[end:end + 1] != b"\n":
            raise QueueFileError("bad record length at byte %d"
                                 % (HEADER_LEN + pos))
        if b"\0" in envelope[start:end]:
            raise QueueFileError("NUL byte in a record")
        out.append((kind.decode(), envelope[start:end]))
        pos = end + 1
    return out


class _Grammar:
    """The record order: T I S once, A any, groups O? N? R|D, then M."""

    def __init__(self):
        self.seen = set()
        self.group = 0
        self.rcpts = 0

    def next(self, kind):
        if "M" in self.seen:
            raise QueueFileError("record after the start of the content")
        if self.group and kind not in "NRD":
            raise QueueFileError("unfinished recipient group")
        if kind in "TIS":
            if kind in self.seen:
                raise QueueFileError("duplicate record " + kind)
            self.seen.add(kind)
        elif kind == "O":
            self.group = 1
        elif kind == "N":
            if self.group == 2:
                raise QueueFileError("second N in a recipient group")
            self.group = 2
        elif kind in "RD":
            self.group, self.rcpts = 0, self.rcpts + 1
        elif kind == "M":
            if not {"T", "I", "S"} <= self.seen or self.rcpts == 0:
                raise QueueFileError("envelope incomplete")
            self.seen.add("M")
        elif kind != "A":
            raise QueueFileError("unknown record type " + kind)


def _envelope(records):
    """Build the result dict from checked records."""
    env = {"records": records, "attrs": {}, "recipients": []}
    rcpt = {"orcpt": None, "notify": None}
    for kind, value in records:
        text = value.decode("utf-8", "surrogateescape")
        if kind == "T":
            if not _ARRIVAL.match(text):
                raise QueueFileError("bad arrival time")
            env["arrival"] = float(text)
        elif kind == "I":
            if not _ID.match(text):
                raise QueueFileError("bad queue id")
            env["id"] = text
        elif kind == "S":
            env["sender"] = text
        elif kind == "A":
            name, eq, val = text.partition("=")
            if not name or not eq:
                raise QueueFileError("bad attribute")
            env["attrs"].setdefault(name, val)
        elif kind in "ON":
            rcpt["orcpt" if kind == "O" else "notify"] = text
        elif kind in "RD":
            rcpt["final"] = text
            rcpt["done"] = kind == "D"
            env["recipients"].append(rcpt)
            rcpt = {"orcpt": None, "notify": None}
    return env


def read(path):
    """Read and check a queue file; return a dict.

    Keys: id, arrival (float), sender, attrs (dict name -> value, the
    first of each name), recipients (list of dicts orcpt, notify, final;
    None when not written; and done: True for a D record, a recipient
    qmgr delivered or bounced), records (list of (type, bytes), M included),
    content (bytes), content_offset.
    """
    with open(path, "rb") as fp:
        data = fp.read()
    length, offset = _header(data)
    records = _records(data[HEADER_LEN:offset])
    grammar = _Grammar()
    for kind, value in records:
        grammar.next(kind)
    if records[-1:] != [("M", b"")]:
        raise QueueFileError("the envelope does not end with M0:")
    env = _envelope(records)
    env["content"] = data[offset:offset + length]
    env["content_offset"] = offset
    return env


def list_queue(queue_dir):
    """List the queue's files: dicts queue (subdirectory), id, path.

    Dot files (messages still being written) are left out.
    """
    out = []
    for sub in SUBDIRS:
        d = os.path.join(queue_dir, sub)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if not name.startswith("."):
                out.append({"queue": sub, "id": name,
                            "path": os.path.join(d, name)})
    return out


def _main(paths):
    """Print "id <sender> final,final content-length" for each file.

    With "--list QUEUE_DIR", print "queue id" for each queue file instead.
    """
    if paths[:1] == ["--list"] and len(paths) == 2:
        for entry in list_queue(paths[1]):
            print("%s %s" % (entry["queue"], entry["id"]))
        return 0
    status = 0
    for path in paths:
        try:
            env = read(path)
        except (OSError, QueueFileError) as e:
            print("%s: %s" % (path, e))
            status = 1
            continue
        finals = ",".join(r["final"] for r in env["recipients"])
        print("%s <%s> %s %d" % (env["id"], env["sender"], finals,
                                 len(env["content"])))
    return status


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
