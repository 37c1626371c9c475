-- Migrations and definitions create their objects in the state schema.
SET LOCAL search_path TO @schema@
