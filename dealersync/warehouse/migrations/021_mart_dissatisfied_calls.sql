-- The calls answered 不满意 (dissatisfied), listed with the customer's words for the weekly quality meeting.

CREATE TABLE mart.dissatisfied_calls (
    period_type       VARCHAR NOT NULL CHECK (period_type IN ('week', 'month', 'year')),
    period            VARCHAR NOT NULL,
    dealer_code       VARCHAR NOT NULL,
    region            VARCHAR,
    call_id           VARCHAR NOT NULL,
    call_time         TIMESTAMP NOT NULL,
    call_type         VARCHAR NOT NULL,
    customer_id       VARCHAR NOT NULL,
    work_order_no     VARCHAR,
    staff             VARCHAR,
    customer_request  VARCHAR,
    needs_action      BOOLEAN,
    notes             VARCHAR,
    refreshed_at      TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE mart.dissatisfied_calls IS 'Dissatisfied calls: reached calls dated in the period whose satisfaction answer is 不满意; one row per period and call; key (period_type, period, dealer_code, call_id). Their count is mart.quality_kpi figure dissatisfied_calls.';
COMMENT ON COLUMN mart.dissatisfied_calls.period_type IS 'week, month or year';
COMMENT ON COLUMN mart.dissatisfied_calls.period IS 'Period label (2026-W47, 2026-11, 2026) holding the call''s date';
COMMENT ON COLUMN mart.dissatisfied_calls.dealer_code IS 'Dealer that made or took the call [经销商代码]';
COMMENT ON COLUMN mart.dissatisfied_calls.region IS 'The dealer''s region (core.dealers_current); (none) when the dealer is unknown';
COMMENT ON COLUMN mart.dissatisfied_calls.call_id IS 'Call record number, unique within the dealer [记录编号]';
COMMENT ON COLUMN mart.dissatisfied_calls.call_time IS 'When the call took place, department local time [通话时间]';
COMMENT ON COLUMN mart.dissatisfied_calls.call_type IS 'What the call was for [通话类型]';
COMMENT ON COLUMN mart.dissatisfied_calls.customer_id IS 'Customer number [客户编号]';
COMMENT ON COLUMN mart.dissatisfied_calls.work_order_no IS 'Work order followed up, when any [工单号]';
COMMENT ON COLUMN mart.dissatisfied_calls.staff IS 'Staff member who made or took the call [业务员]';
COMMENT ON COLUMN mart.dissatisfied_calls.customer_request IS 'What the customer said or asked [客户意见/要求]';
COMMENT ON COLUMN mart.dissatisfied_calls.needs_action IS 'A request that could not be answered on the call [是否需处理]';
COMMENT ON COLUMN mart.dissatisfied_calls.notes IS 'Notes [备注]';
COMMENT ON COLUMN mart.dissatisfied_calls.refreshed_at IS 'When the period was last computed';
