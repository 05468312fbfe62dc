-- Daily due lists (DESIGN.md "Daily due lists"): every call, letter or escalation still open on a day.
-- Computed by transforms/due_list.py from the core tables; warehouse/due_lists.py replaces a day's
-- rows as a whole (one transaction), so recomputing a day gives the same rows again.

CREATE TABLE mart.due_list (
    as_of            DATE NOT NULL,
    dealer_code      VARCHAR NOT NULL,
    dealer_name      VARCHAR,
    region           VARCHAR,
    kind             VARCHAR NOT NULL CHECK (kind IN ('first_follow_up', 'second_follow_up', 'maintenance_reminder', 'campaign_call', 'campaign_letter', 'complaint_escalation', 'complaint_callback', 'customer_file')),
    customer_id      VARCHAR NOT NULL,
    customer_name    VARCHAR,
    phone            VARCHAR,
    address          VARCHAR,
    vin              VARCHAR,
    plate_no         VARCHAR,
    model            VARCHAR,
    ref              VARCHAR NOT NULL,
    due_date         DATE NOT NULL,
    window_end       DATE NOT NULL,
    status           VARCHAR NOT NULL CHECK (status IN ('due', 'overdue')),
    priority         VARCHAR NOT NULL CHECK (priority IN ('high', 'normal')),
    attempts         INTEGER NOT NULL,
    last_attempt_at  TIMESTAMP,
    contact_problem  VARCHAR CHECK (contact_problem IN ('no_customer_file', 'no_phone', 'invalid_phone', 'no_address')),
    talking_points   VARCHAR,
    computed_at      TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.due_list IS 'Daily due lists (到期清单): one row per open item on a day; key (as_of, dealer_code, kind, customer_id, ref). An item is listed when due_date <= as_of and the call, letter or escalation that satisfies it was not logged by the end of as_of; the rules are in the README ("Due lists"). A day''s rows are replaced as a whole when it is recomputed; mart.due_list_days lists the days computed.';
COMMENT ON COLUMN mart.due_list.as_of IS 'The day the list is for (calendar day in the department''s time zone)';
COMMENT ON COLUMN mart.due_list.dealer_code IS 'Dealer who owns the item [经销商代码]; all matching is within one dealer';
COMMENT ON COLUMN mart.due_list.dealer_name IS 'Dealer name as it stood on as_of [经销商名称]';
COMMENT ON COLUMN mart.due_list.region IS 'Dealer''s region as it stood on as_of [区域]; the regional lists are cut by it';
COMMENT ON COLUMN mart.due_list.kind IS 'What to do [类型]; codes: first_follow_up=首次回访, second_follow_up=二次回访, maintenance_reminder=保养提醒, campaign_call=活动电话通知, campaign_letter=活动信函, complaint_escalation=投诉上报, complaint_callback=投诉回访, customer_file=客户建档';
COMMENT ON COLUMN mart.due_list.customer_id IS 'Customer number, within the dealer [客户编号]';
COMMENT ON COLUMN mart.due_list.customer_name IS 'Customer name from the customer file valid on as_of [客户名称]; NULL when there was no file';
COMMENT ON COLUMN mart.due_list.phone IS 'Phone from the customer file valid on as_of, digits only [联系电话]';
COMMENT ON COLUMN mart.due_list.address IS 'Postal address from the customer file valid on as_of, for letters [地址]';
COMMENT ON COLUMN mart.due_list.vin IS 'Vehicle concerned [车架号]: the visit''s, the complaint''s, or for a campaign call one of the customer''s vehicles that makes them eligible (the smallest VIN); NULL for campaign letters';
COMMENT ON COLUMN mart.due_list.plate_no IS 'Licence plate of the vehicle (core.vehicles) [车牌号]';
COMMENT ON COLUMN mart.due_list.model IS 'Model of the vehicle (core.vehicles) [车型]';
COMMENT ON COLUMN mart.due_list.ref IS 'What the item is about [单号]: work_order_no for follow-ups, maintenance reminders and customer files; campaign_id for campaign calls and letters; complaint_id for complaint escalations and call-backs';
COMMENT ON COLUMN mart.due_list.due_date IS 'First day the item is due [应办日期]';
COMMENT ON COLUMN mart.due_list.window_end IS 'Last day of the window [截止日期]; the item is overdue after it';
COMMENT ON COLUMN mart.due_list.status IS 'due, or overdue when as_of > window_end [状态]; codes: due=待办, overdue=逾期';
COMMENT ON COLUMN mart.due_list.priority IS 'high for first follow-ups of visits in the warranty period (under_warranty, or visit type warranty) and for every overdue item, else normal [优先级]; codes: high=高, normal=普通';
COMMENT ON COLUMN mart.due_list.attempts IS 'Calls logged for this item by the end of as_of that did not reach the customer (no_answer, wrong_number) [未接通次数]; 0 for letters, escalations and customer files';
COMMENT ON COLUMN mart.due_list.last_attempt_at IS 'When the latest of those calls took place (local time) [最近尝试时间]';
COMMENT ON COLUMN mart.due_list.contact_problem IS 'Why the customer cannot be called or written to [无法联系原因], NULL when they can: no_customer_file=无客户档案, no_phone=无电话, invalid_phone=电话无效 (not an 11-digit mobile or a landline with area code), no_address=无地址 (letters); always NULL for complaint escalations and customer files, which are the desk''s own work. Exports list these items on a separate sheet';
COMMENT ON COLUMN mart.due_list.talking_points IS 'One line of context for the caller, built from the records: the visit (day, type, work done, pickup, next maintenance), the first call, the campaign (name, type, dates), the complaint (day, category, severity, text) or its resolution [沟通要点]';
COMMENT ON COLUMN mart.due_list.computed_at IS 'When the day''s list was computed';

CREATE TABLE mart.due_list_days (
    as_of        DATE PRIMARY KEY,
    computed_at  TIMESTAMPTZ NOT NULL,
    items        INTEGER NOT NULL,
    seconds      DOUBLE NOT NULL
);
COMMENT ON TABLE mart.due_list_days IS 'Days whose due list has been computed: one row per day; key as_of. Tells an empty list (items 0) from a day never computed.';
COMMENT ON COLUMN mart.due_list_days.as_of IS 'The day (as mart.due_list.as_of)';
COMMENT ON COLUMN mart.due_list_days.computed_at IS 'When the day''s list was last computed';
COMMENT ON COLUMN mart.due_list_days.items IS 'Rows of mart.due_list for the day';
COMMENT ON COLUMN mart.due_list_days.seconds IS 'Seconds the computation and store took';
