"""Supabase: Storage for full run logs (``logs``)."""
