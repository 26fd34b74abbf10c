-- The quickstart's demo: an orders table and a few changes to it.
DROP TABLE IF EXISTS public.orders;
CREATE TABLE public.orders (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    status      text NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    currency    char(3) NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamp NOT NULL DEFAULT now()
);
