-- The chaos suite's source: six tables shaped like a small shop's
-- (bigint, composite and uuid keys, a TOASTed text column, most column
-- types), their snapshot rows, and step(), one random unit of work of the
-- steady stream. psql -v schema=NAME -v rows=N -f workload.sql
--
-- Every table has g (a generator number, unique, never changed), v (a
-- version counter that every update increments) and note. Keys are never
-- reused: inserts take fresh generator numbers, and a primary key change
-- moves a row to a fresh key. The checker relies on both.
CREATE SCHEMA :"schema";
SET search_path = :"schema";

CREATE SEQUENCE gen;

CREATE TABLE orders (
    id bigint PRIMARY KEY, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    amount numeric(12,2), placed timestamptz, status text, tags text[]);
CREATE TABLE customers (
    id bigint PRIMARY KEY, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    email text, born date, profile jsonb, vip boolean);
CREATE TABLE order_lines (
    tenant integer, id bigint, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    qty smallint, price double precision, PRIMARY KEY (tenant, id));
CREATE TABLE devices (
    id uuid PRIMARY KEY, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    seen timestamp, fingerprint bytea);
CREATE TABLE documents (
    id bigint PRIMARY KEY, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    title text, big text);
CREATE TABLE audit_log (
    id bigint PRIMARY KEY, g bigint NOT NULL UNIQUE, v integer NOT NULL, note text,
    at timestamptz, detail jsonb, codes integer[]);

-- ~9,600 characters of md5 text: stored out of line (TOASTed) even after
-- compression.
CREATE FUNCTION big_text() RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 300) $$;

-- insert_rows(TABLE, N): N new rows with fresh generator numbers.
CREATE FUNCTION insert_rows(t text, n integer) RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    CASE t
    WHEN 'orders' THEN
        INSERT INTO orders SELECT g, g, 0, CASE WHEN g % 3 = 0 THEN NULL ELSE 'o' || g END,
               round((g % 10000) / 7.0, 2), now(), (ARRAY['new', 'paid', 'sent'])[1 + g % 3], ARRAY['t' || g, NULL]
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    WHEN 'customers' THEN
        INSERT INTO customers SELECT g, g, 0, 'c' || g, 'c' || g || '@example.com', date '1970-01-01' + (g % 20000)::int,
               jsonb_build_object('g', g, 'tags', jsonb_build_array('a', g)), g % 5 = 0
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    WHEN 'order_lines' THEN
        INSERT INTO order_lines SELECT (g % 7)::int, g * 10, g, 0, NULL, (g % 100)::smallint, g / 3.0
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    WHEN 'devices' THEN
        INSERT INTO devices SELECT md5('d' || g)::uuid, g, 0, 'd' || g, timestamp '2024-01-01' + g * interval '1 s',
               decode(md5(g::text), 'hex')
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    WHEN 'documents' THEN
        INSERT INTO documents SELECT g, g, 0, 'doc ' || g, 'title é "' || g || '"',
               CASE WHEN g % 4 = 0 THEN NULL ELSE big_text() END
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    WHEN 'audit_log' THEN
        INSERT INTO audit_log SELECT g, g, 0, NULL, now(), jsonb_build_object('g', g), ARRAY[g::int % 1000, 1]
          FROM (SELECT nextval('gen') AS g FROM generate_series(1, n)) s;
    END CASE;
END $$;

-- step(): one random unit of work on one random table: inserts, updates
-- of random rows (v + 1; the TOASTed column mostly left unchanged), a
-- delete, and now and then a primary key change.
CREATE FUNCTION step() RETURNS void LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
    t text := (ARRAY['orders', 'customers', 'order_lines', 'devices', 'documents', 'audit_log'])[1 + floor(random() * 6)::int];
    -- N rows from a random place on: an index range scan, not a sort of the table
    pick text := format('g IN (SELECT g FROM %I WHERE g >= (SELECT floor(random() * last_value)::bigint FROM gen)'
                        ' ORDER BY g LIMIT %%s)', t);
BEGIN
    PERFORM insert_rows(t, 1 + floor(random() * 4)::int);
    EXECUTE format('UPDATE %I SET v = v + 1, note = CASE WHEN random() < 0.2 THEN NULL ELSE ''u'' || v END WHERE '
                   || format(pick, 1 + floor(random() * 4)::int), t);
    IF t = 'documents' AND random() < 0.3 THEN
        EXECUTE 'UPDATE documents SET v = v + 1, big = big_text() WHERE ' || format(pick, 1);
    END IF;
    IF random() < 0.5 THEN
        EXECUTE format('DELETE FROM %I WHERE ' || format(pick, 1), t);
    END IF;
    IF random() < 0.1 THEN
        CASE t
        WHEN 'orders' THEN
            EXECUTE 'UPDATE orders SET id = id + 1000000000, v = v + 1 WHERE ' || format(pick, 1);
        WHEN 'devices' THEN
            EXECUTE 'UPDATE devices SET id = md5(id::text)::uuid, v = v + 1 WHERE ' || format(pick, 1);
        WHEN 'order_lines' THEN
            EXECUTE 'UPDATE order_lines SET tenant = tenant + 100, v = v + 1 WHERE ' || format(pick, 1);
        ELSE NULL;
        END CASE;
    END IF;
END $$;

-- The snapshot: rows that exist before the connector does.
SELECT insert_rows(t, :rows)
  FROM unnest(ARRAY['orders', 'customers', 'order_lines', 'devices', 'documents', 'audit_log']) t;
