"""The SQL Kairos installs on request so that a table's inserts NOTIFY a channel.

``install_insert_trigger`` creates (or replaces) a PL/pgSQL function and an
``AFTER INSERT … FOR EACH ROW`` trigger on the table that send the new row as
JSON on ``kairos_<table>_inserted``. NOTIFY payloads are capped at 8000 bytes by
PostgreSQL: a larger row is sent without its columns (``"truncated": true``)
rather than failing the insert. Each payload carries the transaction id, so two
identical rows inserted by separate transactions are two events.
"""

from __future__ import annotations

import re

import asyncpg

from core.errors import InvalidInput

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")


def insert_channel(table: str) -> str:
    """The channel a table's installed trigger notifies (``kairos_orders_inserted``)."""
    return f"kairos_{checked_table(table)}_inserted"


def checked_table(table: str) -> str:
    """A plain lower-case table name (optionally ``schema.table``), or ``InvalidInput``."""
    parts = table.strip().lower().split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENT.match(p) for p in parts):
        raise InvalidInput(
            f"{table!r} is not a table name Kairos can install a trigger on.",
            hint="Use a plain name such as 'orders' or 'public.orders'.",
        )
    return parts[-1]


async def install_insert_trigger(dsn: str, table: str) -> str:
    """Install the NOTIFY trigger on ``table`` in the database at ``dsn``; its channel."""
    name = checked_table(table)
    qualified = ".".join(f'"{p}"' for p in table.strip().lower().split("."))
    channel = insert_channel(table)
    function = f"kairos_notify_{name}_inserted"
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        async with conn.transaction():
            await conn.execute(
                f"""
                CREATE OR REPLACE FUNCTION "{function}"() RETURNS trigger
                LANGUAGE plpgsql AS $$
                DECLARE
                    payload text;
                BEGIN
                    payload := json_build_object(
                        'table', TG_TABLE_NAME, 'op', TG_OP,
                        'txid', txid_current(), 'row', row_to_json(NEW))::text;
                    IF octet_length(payload) > 7900 THEN
                        payload := json_build_object(
                            'table', TG_TABLE_NAME, 'op', TG_OP,
                            'txid', txid_current(), 'truncated', true)::text;
                    END IF;
                    PERFORM pg_notify('{channel}', payload);
                    RETURN NEW;
                END $$
                """
            )
            await conn.execute(f'DROP TRIGGER IF EXISTS "{function}" ON {qualified}')
            await conn.execute(
                f'CREATE TRIGGER "{function}" AFTER INSERT ON {qualified} '
                f'FOR EACH ROW EXECUTE FUNCTION "{function}"()'
            )
    except asyncpg.PostgresError as exc:
        raise InvalidInput(
            f"Could not install the insert trigger on {table!r}: {exc}.",
            hint="Check that the table exists and that Kairos's database user may create "
            "triggers on it.",
        ) from exc
    finally:
        await conn.close()
    return channel
