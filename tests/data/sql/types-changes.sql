-- Changes captured as fixtures; the order of statements is the order of
-- the events in tests/data/debezium/. Session time zone is fixed so that
-- timestamptz literals mean one instant.
SET TIME ZONE 'UTC';

-- 1: every column set
INSERT INTO public.all_types VALUES (
    1, -32768, 2147483647, -9223372036854775808,
    -123456789.125, 12345678901234567890.123456789,
    3.5, -2.25e-10, true,
    'héllo "quoted" \ line' || chr(10) || 'two', 'varchar', 'ab',
    '\x00ff10'::bytea,
    '1969-07-20', '23:59:59.999999', '2024-02-29 12:34:56.789012',
    '2024-02-29 12:34:56.789012+02',
    '1 year 2 mons 3 days 04:05:06.789',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '{"a": [1, 2, {"b": null}]}', '{"k": "v", "n": 1.5}',
    'happy', '{1,NULL,3}', '{"x","y z",NULL}',
    (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)
);

-- 2: every nullable column NULL
INSERT INTO public.all_types (id) VALUES (2);

-- 3: other edges: zero/negative numbers, old dates, empty arrays
INSERT INTO public.all_types (id, c_int2, c_int4, c_int8, c_numeric,
    c_numeric_any, c_real, c_double, c_bool, c_text, c_date, c_time,
    c_timestamp, c_timestamptz, c_interval, c_int_array, c_text_array, c_big)
VALUES (3, 0, -1, 0, 0.001, -0.5, -0.0, 1e300, false, '', '0001-01-01',
    '00:00:00', '1900-01-01 00:00:00', '1970-01-01 00:00:00+00',
    '-1 days -00:00:01', '{}', '{}', 'short');

-- 4: update that leaves the TOASTed c_big unchanged → placeholder
UPDATE public.all_types SET c_int4 = 42, c_text = 'updated' WHERE id = 1;

-- 5: delete
DELETE FROM public.all_types WHERE id = 2;

-- orders: 3 inserts, 2 updates, 1 delete
INSERT INTO public.orders VALUES
    (1, 100, 'new', 19.99, 'EUR', 'first order', '2024-05-01 10:00:00+00', '2024-05-01 10:00:00'),
    (2, 101, 'new', 250.00, 'USD', NULL, '2024-05-01 11:30:00.5+00', '2024-05-01 11:30:00.5'),
    (3, 100, 'new', 0.01, 'EUR', 'tiny', '2024-05-02 09:15:00+00', '2024-05-02 09:15:00');
UPDATE public.orders SET status = 'paid', updated_at = '2024-05-01 12:00:00' WHERE id = 1;
UPDATE public.orders SET status = 'shipped', amount = 245.50 WHERE id = 2;
DELETE FROM public.orders WHERE id = 3;
