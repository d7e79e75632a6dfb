-- Billig as this site's development database has it: production's relations, names, types,
-- nullability and keys, except that the ticket groups live where the site's models look for
-- them (see below). Loaded into every throwaway mirror in one transaction.

CREATE SCHEMA billig;

CREATE TABLE billig.event (
    event integer NOT NULL,
    event_name character varying(140) NOT NULL,
    event_location character varying(255),
    event_note text,
    event_time timestamp without time zone,
    event_type character varying(255),
    external_id integer,
    organisation integer,
    a4_ticket_layout integer,
    receipt_ticket_layout integer,
    tp_ticket_layout integer,
    ticket_fee integer,
    sale_from timestamp without time zone NOT NULL,
    sale_to timestamp without time zone NOT NULL,
    hidden boolean NOT NULL,
    CONSTRAINT event_pkey PRIMARY KEY (event)
);

-- The web-visible events; the site reads events only through this view.
CREATE VIEW billig.event_lim_web AS
    SELECT event, event_name, event_location, event_note, event_time, event_type,
           external_id, organisation, a4_ticket_layout, receipt_ticket_layout,
           tp_ticket_layout, ticket_fee, sale_from, sale_to, hidden
      FROM billig.event;

-- The site's Django model names this table with a dotted ``db_table = 'billig.ticket_group'``,
-- which Django quotes as one identifier in the search path: the dev schema was made to match,
-- so here the table is public."billig.ticket_group". Production has billig.ticket_group.
CREATE TABLE public."billig.ticket_group" (
    ticket_group integer NOT NULL,
    event integer NOT NULL,
    ticket_group_name character varying(140) NOT NULL,
    is_theater_ticket_group boolean DEFAULT false NOT NULL,
    ticket_limit integer,
    num_sold integer NOT NULL,
    num integer NOT NULL,
    CONSTRAINT ticket_group_pkey PRIMARY KEY (ticket_group),
    CONSTRAINT ticket_group_event_fkey FOREIGN KEY (event) REFERENCES billig.event (event)
);

CREATE TABLE billig.price_group (
    price_group integer NOT NULL,
    ticket_group integer NOT NULL,
    price_group_name character varying(140) NOT NULL,
    membership_needed boolean NOT NULL,
    can_be_put_on_card boolean NOT NULL,
    netsale boolean NOT NULL,
    price integer NOT NULL,
    CONSTRAINT price_group_pkey PRIMARY KEY (price_group),
    CONSTRAINT price_group_ticket_group_fkey FOREIGN KEY (ticket_group)
        REFERENCES public."billig.ticket_group" (ticket_group)
);

CREATE TABLE billig.purchase (
    purchase integer NOT NULL,
    owner_member_id integer,
    owner_email character varying(254),
    CONSTRAINT purchase_pkey PRIMARY KEY (purchase)
);

CREATE TABLE billig.ticket_card (
    card bigint NOT NULL,
    owner_member_id integer,
    membership_ends date,
    CONSTRAINT ticket_card_pkey PRIMARY KEY (card)
);

CREATE TABLE billig.ticket (
    ticket integer NOT NULL,
    price_group integer NOT NULL,
    purchase integer NOT NULL,
    used timestamp without time zone,
    refunded timestamp without time zone,
    on_card boolean NOT NULL,
    refunder text,
    point_of_refund integer,
    CONSTRAINT ticket_pkey PRIMARY KEY (ticket),
    CONSTRAINT ticket_price_group_fkey FOREIGN KEY (price_group)
        REFERENCES billig.price_group (price_group),
    CONSTRAINT ticket_purchase_fkey FOREIGN KEY (purchase) REFERENCES billig.purchase (purchase)
);

CREATE TABLE billig.payment_error (
    error character varying(64) NOT NULL,
    failed timestamp without time zone,
    owner_cardno character varying(140),
    owner_email character varying(254),
    message text NOT NULL,
    CONSTRAINT payment_error_pkey PRIMARY KEY (error)
);

-- No primary key in production, and price_group is not a foreign key there.
CREATE TABLE billig.payment_error_price_group (
    error character varying(64) NOT NULL,
    price_group integer NOT NULL,
    number_of_tickets integer NOT NULL,
    CONSTRAINT payment_error_price_group_error_fkey FOREIGN KEY (error)
        REFERENCES billig.payment_error (error)
);
