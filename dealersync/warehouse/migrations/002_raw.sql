-- Raw layer: every data row read from a workbook, cells as text, before normalisation.
-- Append-only: what was received. One table per sheet kind: lineage, the contract's columns
-- (VARCHAR, NULL when the sheet has no such column), then `extra` for columns the contract does not know.
-- A row is identified by (file_sha256, sheet, excel_row); a file's rows are stored once per content.

CREATE TABLE raw.customers (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    customer_id            VARCHAR,
    name                   VARCHAR,
    phone                  VARCHAR,
    address                VARCHAR,
    region                 VARCHAR,
    contact_person         VARCHAR,
    vin                    VARCHAR,
    plate_no               VARCHAR,
    model                  VARCHAR,
    vehicle_type           VARCHAR,
    purchase_date          VARCHAR,
    warranty_end           VARCHAR,
    preferred_services     VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.customers IS 'As received: one row per data row of a customers sheet (客户档案), every cell as text; identified by (file_sha256, sheet, excel_row). Customer files (客户档案基本资料表): one row per customer and vehicle.';
COMMENT ON COLUMN raw.customers.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.customers.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.customers.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.customers.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.customers.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.customers.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.customers.customer_id IS 'Cell text under the 客户编号 column, as written (typed in core: Customer number, unique within the dealer)';
COMMENT ON COLUMN raw.customers.name IS 'Cell text under the 客户名称 column, as written (typed in core: Customer name (person or company))';
COMMENT ON COLUMN raw.customers.phone IS 'Cell text under the 联系电话 column, as written (typed in core: Phone, digits only: 11-digit mobile or landline with area code)';
COMMENT ON COLUMN raw.customers.address IS 'Cell text under the 地址 column, as written (typed in core: Postal address)';
COMMENT ON COLUMN raw.customers.region IS 'Cell text under the 地区 column, as written (typed in core: Customer''s region; defaults to the dealer''s region)';
COMMENT ON COLUMN raw.customers.contact_person IS 'Cell text under the 联系人 column, as written (typed in core: Contact person at the customer)';
COMMENT ON COLUMN raw.customers.vin IS 'Cell text under the 车架号 column, as written (typed in core: Vehicle identification number, 17 characters, no I/O/Q)';
COMMENT ON COLUMN raw.customers.plate_no IS 'Cell text under the 车牌号 column, as written (typed in core: Licence plate)';
COMMENT ON COLUMN raw.customers.model IS 'Cell text under the 车型 column, as written (typed in core: Vehicle model)';
COMMENT ON COLUMN raw.customers.vehicle_type IS 'Cell text under the 车种 column, as written (typed in core: Vehicle type)';
COMMENT ON COLUMN raw.customers.purchase_date IS 'Cell text under the 购车日期 column, as written (typed in core: Purchase date, not in the future)';
COMMENT ON COLUMN raw.customers.warranty_end IS 'Cell text under the 保修截止日期 column, as written (typed in core: End of warranty; blank = purchase date + warranty months)';
COMMENT ON COLUMN raw.customers.preferred_services IS 'Cell text under the 客户希望得到的服务 column, as written (typed in core: Services the customer would like)';
COMMENT ON COLUMN raw.customers.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.service_visits (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    work_order_no          VARCHAR,
    customer_id            VARCHAR,
    vin                    VARCHAR,
    intake_date            VARCHAR,
    pickup_date            VARCHAR,
    visit_type             VARCHAR,
    service_items          VARCHAR,
    parts_used             VARCHAR,
    mileage_km             VARCHAR,
    amount                 VARCHAR,
    maintenance_cycle_days VARCHAR,
    next_maintenance_date  VARCHAR,
    under_warranty         VARCHAR,
    advisor                VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.service_visits IS 'As received: one row per data row of a service_visits sheet (维修保养记录), every cell as text; identified by (file_sha256, sheet, excel_row). Service visits (维修保养记录): one row per work order.';
COMMENT ON COLUMN raw.service_visits.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.service_visits.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.service_visits.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.service_visits.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.service_visits.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.service_visits.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.service_visits.work_order_no IS 'Cell text under the 工单号 column, as written (typed in core: Work order number, unique within the dealer)';
COMMENT ON COLUMN raw.service_visits.customer_id IS 'Cell text under the 客户编号 column, as written (typed in core: Customer number, unique within the dealer)';
COMMENT ON COLUMN raw.service_visits.vin IS 'Cell text under the 车架号 column, as written (typed in core: Vehicle identification number)';
COMMENT ON COLUMN raw.service_visits.intake_date IS 'Cell text under the 进厂日期 column, as written (typed in core: Day the vehicle came in (or the consultation))';
COMMENT ON COLUMN raw.service_visits.pickup_date IS 'Cell text under the 出厂日期 column, as written (typed in core: Day the vehicle left the shop; blank while still in)';
COMMENT ON COLUMN raw.service_visits.visit_type IS 'Cell text under the 类型 column, as written (typed in core: maintenance, repair, warranty, consultation)';
COMMENT ON COLUMN raw.service_visits.service_items IS 'Cell text under the 维修保养项目 column, as written (typed in core: Work done)';
COMMENT ON COLUMN raw.service_visits.parts_used IS 'Cell text under the 更换配件 column, as written (typed in core: Part numbers replaced, separated by , ; 、 or spaces)';
COMMENT ON COLUMN raw.service_visits.mileage_km IS 'Cell text under the 里程 column, as written (typed in core: Odometer in km, 0 to 1,000,000)';
COMMENT ON COLUMN raw.service_visits.amount IS 'Cell text under the 金额 column, as written (typed in core: Amount charged (yuan), 2 decimals, >= 0)';
COMMENT ON COLUMN raw.service_visits.maintenance_cycle_days IS 'Cell text under the 保养周期(天) column, as written (typed in core: Maintenance cycle in days, 1 to 730)';
COMMENT ON COLUMN raw.service_visits.next_maintenance_date IS 'Cell text under the 下次保养日期 column, as written (typed in core: Next maintenance; blank = pickup/intake + cycle)';
COMMENT ON COLUMN raw.service_visits.under_warranty IS 'Cell text under the 是否保修期内 column, as written (typed in core: Visit in the warranty period; blank = derived)';
COMMENT ON COLUMN raw.service_visits.advisor IS 'Cell text under the 服务顾问 column, as written (typed in core: Service advisor)';
COMMENT ON COLUMN raw.service_visits.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.follow_up_calls (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    call_id                VARCHAR,
    call_time              VARCHAR,
    direction              VARCHAR,
    call_type              VARCHAR,
    customer_id            VARCHAR,
    work_order_no          VARCHAR,
    campaign_id            VARCHAR,
    complaint_id           VARCHAR,
    staff                  VARCHAR,
    outcome                VARCHAR,
    satisfaction           VARCHAR,
    customer_request       VARCHAR,
    needs_action           VARCHAR,
    notes                  VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.follow_up_calls IS 'As received: one row per data row of a follow_up_calls sheet (跟踪服务电话记录), every cell as text; identified by (file_sha256, sheet, excel_row). Follow-up calls (跟踪服务电话记录/登记表), inbound and outbound.';
COMMENT ON COLUMN raw.follow_up_calls.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.follow_up_calls.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.follow_up_calls.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.follow_up_calls.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.follow_up_calls.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.follow_up_calls.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.follow_up_calls.call_id IS 'Cell text under the 记录编号 column, as written (typed in core: Call record number, unique within the dealer)';
COMMENT ON COLUMN raw.follow_up_calls.call_time IS 'Cell text under the 通话时间 column, as written (typed in core: When the call took place (a date alone = 00:00))';
COMMENT ON COLUMN raw.follow_up_calls.direction IS 'Cell text under the 呼入/呼出 column, as written (typed in core: outbound (default) or inbound)';
COMMENT ON COLUMN raw.follow_up_calls.call_type IS 'Cell text under the 通话类型 column, as written (typed in core: What the call was for)';
COMMENT ON COLUMN raw.follow_up_calls.customer_id IS 'Cell text under the 客户编号 column, as written (typed in core: Customer number, unique within the dealer)';
COMMENT ON COLUMN raw.follow_up_calls.work_order_no IS 'Cell text under the 工单号 column, as written (typed in core: Work order followed up (required for follow-ups))';
COMMENT ON COLUMN raw.follow_up_calls.campaign_id IS 'Cell text under the 活动编号 column, as written (typed in core: Campaign notified (required for campaign notices))';
COMMENT ON COLUMN raw.follow_up_calls.complaint_id IS 'Cell text under the 投诉编号 column, as written (typed in core: Complaint called back (required for complaint call-backs))';
COMMENT ON COLUMN raw.follow_up_calls.staff IS 'Cell text under the 业务员 column, as written (typed in core: Staff member who made or took the call)';
COMMENT ON COLUMN raw.follow_up_calls.outcome IS 'Cell text under the 结果 column, as written (typed in core: reached, no_answer, wrong_number, refused)';
COMMENT ON COLUMN raw.follow_up_calls.satisfaction IS 'Cell text under the 满意度 column, as written (typed in core: satisfied, fair, dissatisfied)';
COMMENT ON COLUMN raw.follow_up_calls.customer_request IS 'Cell text under the 客户意见/要求 column, as written (typed in core: What the customer asked or said)';
COMMENT ON COLUMN raw.follow_up_calls.needs_action IS 'Cell text under the 是否需处理 column, as written (typed in core: A request that could not be answered on the call)';
COMMENT ON COLUMN raw.follow_up_calls.notes IS 'Cell text under the 备注 column, as written (typed in core: Notes)';
COMMENT ON COLUMN raw.follow_up_calls.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.letters (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    letter_id              VARCHAR,
    customer_id            VARCHAR,
    sent_date              VARCHAR,
    letter_type            VARCHAR,
    campaign_id            VARCHAR,
    notes                  VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.letters IS 'As received: one row per data row of a letters sheet (跟踪服务信函登记), every cell as text; identified by (file_sha256, sheet, excel_row). Follow-up letters (跟踪服务信函登记表).';
COMMENT ON COLUMN raw.letters.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.letters.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.letters.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.letters.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.letters.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.letters.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.letters.letter_id IS 'Cell text under the 信函编号 column, as written (typed in core: Letter number, unique within the dealer)';
COMMENT ON COLUMN raw.letters.customer_id IS 'Cell text under the 客户编号 column, as written (typed in core: Customer number, unique within the dealer)';
COMMENT ON COLUMN raw.letters.sent_date IS 'Cell text under the 寄出日期 column, as written (typed in core: Day the letter was sent)';
COMMENT ON COLUMN raw.letters.letter_type IS 'Cell text under the 信函类型 column, as written (typed in core: notice, invitation, reply)';
COMMENT ON COLUMN raw.letters.campaign_id IS 'Cell text under the 活动编号 column, as written (typed in core: Campaign the letter is about (a known campaign))';
COMMENT ON COLUMN raw.letters.notes IS 'Cell text under the 备注 column, as written (typed in core: Notes)';
COMMENT ON COLUMN raw.letters.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.complaints (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    complaint_id           VARCHAR,
    received_date          VARCHAR,
    customer_id            VARCHAR,
    vin                    VARCHAR,
    channel                VARCHAR,
    category               VARCHAR,
    component              VARCHAR,
    description            VARCHAR,
    severity               VARCHAR,
    escalated_date         VARCHAR,
    resolved_date          VARCHAR,
    resolution             VARCHAR,
    customer_satisfied     VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.complaints IS 'As received: one row per data row of a complaints sheet (投诉登记), every cell as text; identified by (file_sha256, sheet, excel_row). Complaints (投诉登记).';
COMMENT ON COLUMN raw.complaints.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.complaints.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.complaints.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.complaints.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.complaints.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.complaints.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.complaints.complaint_id IS 'Cell text under the 投诉编号 column, as written (typed in core: Complaint number, unique within the dealer)';
COMMENT ON COLUMN raw.complaints.received_date IS 'Cell text under the 受理日期 column, as written (typed in core: Day the complaint was received)';
COMMENT ON COLUMN raw.complaints.customer_id IS 'Cell text under the 客户编号 column, as written (typed in core: Customer number, unique within the dealer)';
COMMENT ON COLUMN raw.complaints.vin IS 'Cell text under the 车架号 column, as written (typed in core: Vehicle concerned)';
COMMENT ON COLUMN raw.complaints.channel IS 'Cell text under the 来源 column, as written (typed in core: phone, visit, letter, online)';
COMMENT ON COLUMN raw.complaints.category IS 'Cell text under the 类别 column, as written (typed in core: What the complaint is about)';
COMMENT ON COLUMN raw.complaints.component IS 'Cell text under the 部件 column, as written (typed in core: Critical component concerned, if any)';
COMMENT ON COLUMN raw.complaints.description IS 'Cell text under the 投诉内容 column, as written (typed in core: What the customer complained of)';
COMMENT ON COLUMN raw.complaints.severity IS 'Cell text under the 严重程度 column, as written (typed in core: low, medium (default), high)';
COMMENT ON COLUMN raw.complaints.escalated_date IS 'Cell text under the 上报日期 column, as written (typed in core: Day it was reported to the supervisor)';
COMMENT ON COLUMN raw.complaints.resolved_date IS 'Cell text under the 解决日期 column, as written (typed in core: Day it was resolved)';
COMMENT ON COLUMN raw.complaints.resolution IS 'Cell text under the 处理结果 column, as written (typed in core: How it was resolved (required once resolved))';
COMMENT ON COLUMN raw.complaints.customer_satisfied IS 'Cell text under the 客户是否满意 column, as written (typed in core: Customer satisfied with the resolution)';
COMMENT ON COLUMN raw.complaints.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.part_shipments (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    shipment_line_id       VARCHAR,
    order_no               VARCHAR,
    dealer_code            VARCHAR,
    part_no                VARCHAR,
    qty_ordered            VARCHAR,
    qty_shipped            VARCHAR,
    ship_date              VARCHAR,
    shipped_correct        VARCHAR,
    error_type             VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.part_shipments IS 'As received: one row per data row of a part_shipments sheet (配件出库记录), every cell as text; identified by (file_sha256, sheet, excel_row). Parts shipped by the after-sales warehouse (配件出库记录).';
COMMENT ON COLUMN raw.part_shipments.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.part_shipments.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.part_shipments.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.part_shipments.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.part_shipments.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.part_shipments.shipment_line_id IS 'Cell text under the 出库单行号 column, as written (typed in core: Shipment line number, globally unique)';
COMMENT ON COLUMN raw.part_shipments.order_no IS 'Cell text under the 订单号 column, as written (typed in core: Dealer''s order number)';
COMMENT ON COLUMN raw.part_shipments.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.part_shipments.part_no IS 'Cell text under the 配件编号 column, as written (typed in core: Part number (a known part))';
COMMENT ON COLUMN raw.part_shipments.qty_ordered IS 'Cell text under the 订购数量 column, as written (typed in core: Quantity ordered, > 0)';
COMMENT ON COLUMN raw.part_shipments.qty_shipped IS 'Cell text under the 发货数量 column, as written (typed in core: Quantity shipped, >= 0)';
COMMENT ON COLUMN raw.part_shipments.ship_date IS 'Cell text under the 发货日期 column, as written (typed in core: Day shipped)';
COMMENT ON COLUMN raw.part_shipments.shipped_correct IS 'Cell text under the 发货是否正确 column, as written (typed in core: Shipped correctly; blank = correct)';
COMMENT ON COLUMN raw.part_shipments.error_type IS 'Cell text under the 差错类型 column, as written (typed in core: Kind of shipping error, when incorrect)';
COMMENT ON COLUMN raw.part_shipments.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.part_failures (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    feedback_id            VARCHAR,
    report_date            VARCHAR,
    dealer_code            VARCHAR,
    vin                    VARCHAR,
    part_no                VARCHAR,
    component              VARCHAR,
    batch_no               VARCHAR,
    production_date        VARCHAR,
    mileage_km             VARCHAR,
    failure_mode           VARCHAR,
    work_order_no          VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.part_failures IS 'As received: one row per data row of a part_failures sheet (配件质量反馈), every cell as text; identified by (file_sha256, sheet, excel_row). Part-quality feedback (配件质量反馈).';
COMMENT ON COLUMN raw.part_failures.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.part_failures.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.part_failures.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.part_failures.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.part_failures.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.part_failures.feedback_id IS 'Cell text under the 反馈编号 column, as written (typed in core: Feedback number, globally unique)';
COMMENT ON COLUMN raw.part_failures.report_date IS 'Cell text under the 反馈日期 column, as written (typed in core: Day the failure was reported)';
COMMENT ON COLUMN raw.part_failures.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.part_failures.vin IS 'Cell text under the 车架号 column, as written (typed in core: Vehicle concerned)';
COMMENT ON COLUMN raw.part_failures.part_no IS 'Cell text under the 配件编号 column, as written (typed in core: Part number (a known part))';
COMMENT ON COLUMN raw.part_failures.component IS 'Cell text under the 部件类别 column, as written (typed in core: Component; blank = the part''s component)';
COMMENT ON COLUMN raw.part_failures.batch_no IS 'Cell text under the 批次号 column, as written (typed in core: Production batch of the part)';
COMMENT ON COLUMN raw.part_failures.production_date IS 'Cell text under the 生产日期 column, as written (typed in core: Production date of the part, <= report date)';
COMMENT ON COLUMN raw.part_failures.mileage_km IS 'Cell text under the 故障里程 column, as written (typed in core: Odometer at failure, 0 to 1,000,000)';
COMMENT ON COLUMN raw.part_failures.failure_mode IS 'Cell text under the 故障现象 column, as written (typed in core: What failed and how)';
COMMENT ON COLUMN raw.part_failures.work_order_no IS 'Cell text under the 工单号 column, as written (typed in core: Work order of the repair)';
COMMENT ON COLUMN raw.part_failures.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.part_batches (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    part_no                VARCHAR,
    batch_no               VARCHAR,
    production_date        VARCHAR,
    quantity               VARCHAR,
    supplier               VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.part_batches IS 'As received: one row per data row of a part_batches sheet (配件批次), every cell as text; identified by (file_sha256, sheet, excel_row). Part production batches and their sizes (配件批次), optional.';
COMMENT ON COLUMN raw.part_batches.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.part_batches.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.part_batches.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.part_batches.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.part_batches.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.part_batches.part_no IS 'Cell text under the 配件编号 column, as written (typed in core: Part number (a known part))';
COMMENT ON COLUMN raw.part_batches.batch_no IS 'Cell text under the 批次号 column, as written (typed in core: Production batch)';
COMMENT ON COLUMN raw.part_batches.production_date IS 'Cell text under the 生产日期 column, as written (typed in core: Production date of the batch)';
COMMENT ON COLUMN raw.part_batches.quantity IS 'Cell text under the 批次数量 column, as written (typed in core: Units in the batch, > 0)';
COMMENT ON COLUMN raw.part_batches.supplier IS 'Cell text under the 供应商 column, as written (typed in core: Supplier)';
COMMENT ON COLUMN raw.part_batches.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.dealers (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    dealer_code            VARCHAR,
    name                   VARCHAR,
    region                 VARCHAR,
    province               VARCHAR,
    city                   VARCHAR,
    contact_person         VARCHAR,
    phone                  VARCHAR,
    roving_staff           VARCHAR,
    has_service_shop       VARCHAR,
    active                 VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.dealers IS 'As received: one row per data row of a dealers sheet (经销商), every cell as text; identified by (file_sha256, sheet, excel_row). Dealers (经销商), from head office.';
COMMENT ON COLUMN raw.dealers.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.dealers.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.dealers.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.dealers.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.dealers.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.dealers.dealer_code IS 'Cell text under the 经销商代码 column, as written (typed in core: Dealer code (a known dealer), trimmed and upper-cased)';
COMMENT ON COLUMN raw.dealers.name IS 'Cell text under the 经销商名称 column, as written (typed in core: Dealer name)';
COMMENT ON COLUMN raw.dealers.region IS 'Cell text under the 区域 column, as written (typed in core: Sales region)';
COMMENT ON COLUMN raw.dealers.province IS 'Cell text under the 省份 column, as written (typed in core: Province)';
COMMENT ON COLUMN raw.dealers.city IS 'Cell text under the 城市 column, as written (typed in core: City)';
COMMENT ON COLUMN raw.dealers.contact_person IS 'Cell text under the 负责人 column, as written (typed in core: Person in charge)';
COMMENT ON COLUMN raw.dealers.phone IS 'Cell text under the 联系电话 column, as written (typed in core: Dealer phone)';
COMMENT ON COLUMN raw.dealers.roving_staff IS 'Cell text under the 巡回服务人员 column, as written (typed in core: Roving service staff for the dealer)';
COMMENT ON COLUMN raw.dealers.has_service_shop IS 'Cell text under the 是否有服务站 column, as written (typed in core: Dealer has its own service shop)';
COMMENT ON COLUMN raw.dealers.active IS 'Cell text under the 是否有效 column, as written (typed in core: Dealer is active (default true))';
COMMENT ON COLUMN raw.dealers.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.parts (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    part_no                VARCHAR,
    name                   VARCHAR,
    component              VARCHAR,
    critical               VARCHAR,
    unit_price             VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.parts IS 'As received: one row per data row of a parts sheet (配件目录), every cell as text; identified by (file_sha256, sheet, excel_row). Parts catalogue (配件目录), from head office.';
COMMENT ON COLUMN raw.parts.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.parts.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.parts.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.parts.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.parts.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.parts.part_no IS 'Cell text under the 配件编号 column, as written (typed in core: Part number)';
COMMENT ON COLUMN raw.parts.name IS 'Cell text under the 配件名称 column, as written (typed in core: Part name)';
COMMENT ON COLUMN raw.parts.component IS 'Cell text under the 部件类别 column, as written (typed in core: Component the part belongs to)';
COMMENT ON COLUMN raw.parts.critical IS 'Cell text under the 是否关键件 column, as written (typed in core: Critical part; blank = its component is one of the seven)';
COMMENT ON COLUMN raw.parts.unit_price IS 'Cell text under the 单价 column, as written (typed in core: Unit price (yuan), >= 0)';
COMMENT ON COLUMN raw.parts.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';

CREATE TABLE raw.campaigns (
    run_id                 BIGINT NOT NULL,
    file_sha256            VARCHAR NOT NULL,
    sheet                  VARCHAR NOT NULL,
    excel_row              INTEGER NOT NULL,
    loaded_at              TIMESTAMPTZ NOT NULL,
    campaign_id            VARCHAR,
    name                   VARCHAR,
    campaign_type          VARCHAR,
    start_date             VARCHAR,
    end_date               VARCHAR,
    region                 VARCHAR,
    model                  VARCHAR,
    extra                  JSON
);
COMMENT ON TABLE raw.campaigns IS 'As received: one row per data row of a campaigns sheet (活动), every cell as text; identified by (file_sha256, sheet, excel_row). Customer campaigns (联谊/优惠/免费检测活动), from head office.';
COMMENT ON COLUMN raw.campaigns.run_id IS 'Run (etl.runs) that received the row';
COMMENT ON COLUMN raw.campaigns.file_sha256 IS 'SHA-256 of the workbook the row was read from (etl.files.sha256)';
COMMENT ON COLUMN raw.campaigns.sheet IS 'Sheet name as written in the workbook';
COMMENT ON COLUMN raw.campaigns.excel_row IS 'Row number in the sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN raw.campaigns.loaded_at IS 'When the row was written to the warehouse';
COMMENT ON COLUMN raw.campaigns.campaign_id IS 'Cell text under the 活动编号 column, as written (typed in core: Campaign number)';
COMMENT ON COLUMN raw.campaigns.name IS 'Cell text under the 活动名称 column, as written (typed in core: Campaign name)';
COMMENT ON COLUMN raw.campaigns.campaign_type IS 'Cell text under the 活动类型 column, as written (typed in core: social, discount, free_check)';
COMMENT ON COLUMN raw.campaigns.start_date IS 'Cell text under the 开始日期 column, as written (typed in core: First day of the campaign)';
COMMENT ON COLUMN raw.campaigns.end_date IS 'Cell text under the 结束日期 column, as written (typed in core: Last day of the campaign, >= start)';
COMMENT ON COLUMN raw.campaigns.region IS 'Cell text under the 适用区域 column, as written (typed in core: Region the campaign is for; blank = all)';
COMMENT ON COLUMN raw.campaigns.model IS 'Cell text under the 适用车型 column, as written (typed in core: Vehicle model the campaign is for; blank = all)';
COMMENT ON COLUMN raw.campaigns.extra IS 'Columns the contract does not know: JSON object of header -> cell text; NULL when the sheet has none';
