INSERT INTO public.orders (id, customer_id, status, amount, currency, note) VALUES
    (1, 100, 'new', 19.99, 'EUR', 'first order'),
    (2, 101, 'new', 250.00, 'USD', NULL),
    (3, 100, 'new', 0.01, 'EUR', 'tiny');
UPDATE public.orders SET status = 'paid', updated_at = now() WHERE id = 1;
UPDATE public.orders SET status = 'shipped', amount = 245.50 WHERE id = 2;
DELETE FROM public.orders WHERE id = 3;
