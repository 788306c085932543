"""What a job does: a shell command, an HTTP fetch, a SQL query, an AI prompt, a digest.

Also the event a job waits for ("when a file lands in /srv/drop", "after task
7 completes"), since both read the same clause structure.
"""

from __future__ import annotations

import re
from typing import Any

from core.intents.tokens import Kind, Token
from core.intents.words import norm_at

_SQL_START = re.compile(
    r"^\s*(select|with|insert|update|delete|refresh|vacuum|analyze)\b", re.IGNORECASE
)
_SQL_WORDS = frozenset({"select", "with", "insert", "update", "delete", "refresh", "vacuum"})
_SHELL_VERBS = frozenset({"run", "execute", "exec", "launch", "start", "call", "invoke"})
_HTTP_VERBS = frozenset(
    {
        "fetch",
        "get",
        "hit",
        "ping",
        "check",
        "call",
        "poll",
        "curl",
        "request",
        "load",
        "scrape",
        "download",
        "monitor",
        "query",
        "open",
    }
)
_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head"})
_AI_VERBS = frozenset(
    {
        "summarize",
        "summarise",
        "analyze",
        "analyse",
        "draft",
        "write",
        "generate",
        "translate",
        "review",
        "triage",
        "classify",
        "answer",
        "ask",
        "brainstorm",
        "explain",
        "compile",
        "digest",
    }
)
_STOP_CLAUSE = frozenset({"and", "then", ",", ";"})
_COMMANDS = frozenset(
    {
        "python",
        "python3",
        "bash",
        "sh",
        "make",
        "npm",
        "node",
        "yarn",
        "pnpm",
        "docker",
        "kubectl",
        "git",
        "curl",
        "rsync",
        "pg_dump",
        "ansible",
        "terraform",
        "cargo",
        "go",
        "ruby",
        "php",
        "pytest",
        # Everyday Unix tools and clients: "run echo hi every hour", "execute ls -la daily".
        "echo",
        "printf",
        "ls",
        "cp",
        "mv",
        "rm",
        "mkdir",
        "touch",
        "cat",
        "tar",
        "zip",
        "unzip",
        "gzip",
        "find",
        "grep",
        "sed",
        "awk",
        "jq",
        "date",
        "sleep",
        "env",
        "df",
        "du",
        "wget",
        "ssh",
        "scp",
        "rclone",
        "restic",
        "borg",
        "psql",
        "mysql",
        "mysqldump",
        "sqlite3",
        "systemctl",
        "perl",
        "java",
        "pip",
        "pip3",
        "npx",
        "deno",
        "bun",
        "dotnet",
        "helm",
        "aws",
        "gcloud",
        "gh",
        "uv",
        "poetry",
        "tox",
        "gradle",
        "mvn",
        "certbot",
    }
)
#: What only a command line has: a flag ("-la", "--all"), a pipe or redirect, "&&",
#: an environment assignment ("FOO=1 …").
_NEEDS_SHELL = re.compile(r"[|<>;$`]|&&|^\s*[A-Z_][A-Z0-9_]*=\S")
_COMMAND_SYNTAX = re.compile(r"(?:^|\s)--?[A-Za-z0-9]|[|<>]|&&|(?:^|\s)[A-Z_][A-Z0-9_]*=\S")
_EVENT_LEADS = frozenset({"when", "whenever", "if", "once", "each", "every", "after", "on"})
_FILE_WORDS = frozenset({"file", "files", "upload", "uploads", "csv", "document"})
_DONE_WORDS = frozenset(
    {"completes", "finishes", "succeeds", "done", "finished", "completed", "succeeded"}
)
_FAIL_WORDS = frozenset({"fails", "failed", "breaks", "errors", "crashes"})
#: What the subject of "X succeeds" may hold: words, numbers ("deploy v 2"), #7, 'deploy v2'.
_SUBJECT_KINDS = frozenset({Kind.WORD, Kind.NUM, Kind.REF, Kind.QUOTE})


def _outcome_end(toks: list[Token], start: int) -> int:
    """Past "X succeeds" / "X fails" when that follows ``start``, else ``start``.

    The subject X is every word up to the outcome: a task may be named with a
    word that is elsewhere a verb ("after the post succeeds", "if the fetch
    fails"), so verbs do not end it; punctuation, "then", a channel, a person,
    a quoted command or a word already read do.
    """
    end = start
    while end < len(toks) and not toks[end].used and toks[end].kind in _SUBJECT_KINDS:
        word = toks[end].norm
        if word in _DONE_WORDS or word in _FAIL_WORDS:
            return end + 1 if end > start else start
        if word in (",", ";", "then", "and"):
            break
        end += 1
    return start


def _span_text(text: str, toks: list[Token], start: int, end: int) -> str:
    return text[toks[start].start : toks[end - 1].end].strip()


def _use(toks: list[Token], start: int, end: int) -> None:
    for tok in toks[start:end]:
        tok.used = True


def _verb_before(toks: list[Token], i: int, verbs: frozenset[str]) -> int:
    # Mark "run" in "run `x`" / "fetch" in "fetch https://" as read, return its index.
    k = i - 1
    while norm_at(toks, k) in (
        "the",
        "a",
        "this",
        "script",
        "command",
        "url",
        "endpoint",
        "query",
        "sql",
        "request",
        "to",
        "from",
    ):
        k -= 1
    return k if norm_at(toks, k) in verbs else i


def take_action(toks: list[Token], text: str) -> dict[str, Any] | None:
    """The job's action, marking its tokens used; ``None`` if the text names none."""
    for i, tok in enumerate(toks):
        if tok.used:
            continue
        if tok.kind is Kind.CODE:
            code = tok.value
            is_sql = _SQL_START.match(code) is not None or any(
                norm_at(toks, k) in ("query", "sql") for k in (i - 1, i - 2)
            )
            _use(toks, _verb_before(toks, i, _SHELL_VERBS | {"query"}), i + 1)
            return {"type": "sql", "query": code} if is_sql else _shell(code)
        if tok.kind is Kind.URL:
            return _http(toks, i)
    for i, tok in enumerate(toks):
        if tok.used:
            continue
        word = tok.norm
        if (word in _SQL_WORDS and tok.text.isupper()) or (
            word in _SQL_WORDS and norm_at(toks, i - 1) in ("run", "query", "sql", "execute")
        ):
            end = _clause_end(toks, i)
            query = _span_text(text, toks, i, end)
            _use(toks, _verb_before(toks, i, _SHELL_VERBS | {"query", "sql"}), end)
            return {"type": "sql", "query": query}
        if tok.kind is Kind.PATH and norm_at(toks, i - 1) in _SHELL_VERBS | {"script"}:
            end = _clause_end(toks, i)
            _use(toks, _verb_before(toks, i, _SHELL_VERBS), end)
            return _shell(_span_text(text, toks, i, end))
        if norm_at(toks, i - 1) in _SHELL_VERBS and i + 1 < len(toks):
            end = _clause_end(toks, i)
            command = _span_text(text, toks, i, end)
            if word in _COMMANDS or _COMMAND_SYNTAX.search(command):
                _use(toks, i - 1, end)
                return _shell(command)
    return None


def _shell(command: str) -> dict[str, Any]:
    """A shell action; through ``/bin/sh`` only when the command line needs a shell
    (a pipe, a redirect, ``&&``/``;``, a variable, a leading ``NAME=value``)."""
    if _NEEDS_SHELL.search(command):
        return {"type": "shell", "command": command, "shell": True}
    return {"type": "shell", "command": command}


def _http(toks: list[Token], i: int) -> dict[str, Any]:
    method = "GET"
    toks[i].used = True
    for k in (i - 1, i - 2):
        word = norm_at(toks, k)
        if word in _METHODS and (
            toks[k].text.isupper()
            or norm_at(toks, k + 1) in ("to",)
            or word in ("post", "put", "patch")
        ):
            method = word.upper()
            _use(toks, k, i)
            break
        if word in _HTTP_VERBS:
            _use(toks, k, i)
            break
    return {"type": "http", "url": toks[i].value, "method": method}


def _clause_end(toks: list[Token], i: int) -> int:
    end = i + 1
    while end < len(toks) and not toks[end].used:
        word = toks[end].norm
        if word in _STOP_CLAUSE and norm_at(toks, end + 1) in (
            "post",
            "send",
            "share",
            "then",
            "notify",
            "report",
            "tell",
        ):
            break
        if word in (";",) or toks[end].kind in (Kind.CHANNEL, Kind.USER):
            break
        end += 1
    while end - 1 > i and toks[end - 1].norm in ("and", ",", "then", "to", "in", "."):
        end -= 1
    return end


def ai_prompt(toks: list[Token], text: str) -> dict[str, Any] | None:
    """An AI task ("summarize #support", "draft the release notes"), or a digest."""
    for i, tok in enumerate(toks):
        if tok.used or tok.kind is not Kind.WORD:
            continue
        if tok.norm == "digest" or (
            tok.norm in ("report", "recap", "summary")
            and any(
                not t.used and t.norm in ("post", "send", "share", "generate", "compile")
                for t in toks[:i]
            )
        ):
            tok.used = True
            return {"type": "digest"}
        if tok.norm in _AI_VERBS:
            end = i + 1
            while end < len(toks) and (not toks[end].used or toks[end].kind is Kind.CHANNEL):
                end += 1
            prompt = _span_text(text, toks, i, end)
            _use(toks, i, end)
            return {"type": "ai_prompt", "prompt": prompt}
    return None


def take_event(toks: list[Token], text: str) -> str | None:
    """The event a job waits for, as a short name ("file:/srv/drop", "task_completed:7")."""
    for i, tok in enumerate(toks):
        if tok.used or tok.norm not in _EVENT_LEADS:
            continue
        end = _outcome_end(toks, i + 1)
        while end < len(toks) and not toks[end].used and toks[end].kind is not Kind.CODE:
            if toks[end].norm in (
                "run",
                "fetch",
                "execute",
                "post",
                "send",
                ",",
                "then",
                "notify",
                "ping",
                "remind",
                "summarize",
                "tell",
                "call",
            ):
                break
            end += 1
        clause = toks[i + 1 : end]
        if not clause:
            continue
        words = {t.norm for t in clause}
        paths = [t.value for t in clause if t.kind is Kind.PATH]
        name: str | None = None
        if paths and (words & _FILE_WORDS or words & {"lands", "arrives", "appears", "dropped"}):
            name = f"file:{paths[0]}"
        elif words & _DONE_WORDS or words & _FAIL_WORDS:
            subject = [
                t
                for t in clause
                if t.norm not in _DONE_WORDS | _FAIL_WORDS
                and t.norm not in ("task", "is", "has", "the", "job")
            ]
            outcome = "failed" if words & _FAIL_WORDS else "completed"
            ref = " ".join(t.value if t.kind is Kind.REF else t.text for t in subject)
            name = f"task_{outcome}:{ref or 'this'}"
        elif ("webhook" in words or "hook" in words) and paths:
            name = f"webhook:{paths[0]}"
        elif "webhook" in words or "push" in words or "pushes" in words or "deploy" in words:
            name = "webhook:" + "-".join(
                t.norm
                for t in clause
                if t.kind is Kind.WORD
                and t.norm not in ("a", "the", "someone", "there", "is", "we", "on")
            )
        elif tok.norm in ("when", "whenever"):
            name = "event:" + "-".join(t.norm for t in clause if t.kind is Kind.WORD)
        if name:
            _use(toks, i, end)
            if norm_at(toks, end) == ",":
                toks[end].used = True
            return name
    return None
