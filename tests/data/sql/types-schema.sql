-- The fixture table: one column per PostgreSQL type cdcsink must decode.
-- tests/data/capture runs this on the source, then types-changes.sql, and
-- stores what Debezium published. tests/unit/t0003-decode.c checks every
-- decoded value against the literals written here: change both together.
DROP TABLE IF EXISTS public.all_types;
DROP TYPE IF EXISTS public.mood;
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE public.all_types (
    id            integer PRIMARY KEY,
    c_int2        smallint,
    c_int4        integer,
    c_int8        bigint,
    c_numeric     numeric(12, 3),
    c_numeric_any numeric,
    c_real        real,
    c_double      double precision,
    c_bool        boolean,
    c_text        text,
    c_varchar     varchar(20),
    c_char        char(5),
    c_bytea       bytea,
    c_date        date,
    c_time        time,
    c_timestamp   timestamp,
    c_timestamptz timestamptz,
    c_interval    interval,
    c_uuid        uuid,
    c_json        json,
    c_jsonb       jsonb,
    c_enum        public.mood,
    c_int_array   integer[],
    c_text_array  text[],
    c_big         text
);
-- The orders-like table the quickstart and the benchmarks use.
DROP TABLE IF EXISTS public.orders;
CREATE TABLE public.orders (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    status      text NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    currency    char(3) NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamp NOT NULL
);
