-- Core layer: typed, normalised rows, upserted by business key (contract columns, exactly named).
-- Customers and dealers keep history (valid_from / valid_to); every row carries lineage to the
-- workbook cell it came from (run_id, file_sha256, sheet, excel_row, loaded_at).

CREATE TABLE core.dealers (
    dealer_code              VARCHAR NOT NULL,
    name                     VARCHAR NOT NULL,
    region                   VARCHAR NOT NULL,
    province                 VARCHAR,
    city                     VARCHAR,
    contact_person           VARCHAR,
    phone                    VARCHAR,
    roving_staff             VARCHAR,
    has_service_shop         BOOLEAN,
    active                   BOOLEAN,
    valid_from               DATE NOT NULL,
    valid_to                 DATE,
    is_current               BOOLEAN GENERATED ALWAYS AS (valid_to IS NULL) VIRTUAL,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, valid_from)
);
COMMENT ON TABLE core.dealers IS 'Dealers (经销商) from head office, with history: one row per version of a dealer''s attributes; key (dealer_code, valid_from), the current version has valid_to NULL. Versions of a dealer never overlap.';
COMMENT ON COLUMN core.dealers.dealer_code IS 'Dealer code, trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.dealers.name IS 'Dealer name [经销商名称]';
COMMENT ON COLUMN core.dealers.region IS 'Sales region [区域]';
COMMENT ON COLUMN core.dealers.province IS 'Province [省份]';
COMMENT ON COLUMN core.dealers.city IS 'City [城市]';
COMMENT ON COLUMN core.dealers.contact_person IS 'Person in charge [负责人]';
COMMENT ON COLUMN core.dealers.phone IS 'Dealer phone [联系电话]';
COMMENT ON COLUMN core.dealers.roving_staff IS 'Roving service staff for the dealer [巡回服务人员]';
COMMENT ON COLUMN core.dealers.has_service_shop IS 'Dealer has its own service shop [是否有服务站]';
COMMENT ON COLUMN core.dealers.active IS 'Dealer is active (true when the sheet leaves it blank) [是否有效]';
COMMENT ON COLUMN core.dealers.valid_from IS 'First day this version holds (the as-of day of the run that saw it)';
COMMENT ON COLUMN core.dealers.valid_to IS 'First day this version no longer holds (exclusive); NULL while it is the current version';
COMMENT ON COLUMN core.dealers.is_current IS 'True for the current version (valid_to IS NULL)';
COMMENT ON COLUMN core.dealers.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.dealers.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.dealers.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.dealers.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.dealers.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.parts (
    part_no                  VARCHAR NOT NULL,
    name                     VARCHAR NOT NULL,
    component                VARCHAR NOT NULL CHECK (component IN ('motor', 'controller', 'rear_axle', 'differential', 'frame', 'front_shock', 'rim_weld', 'other')),
    critical                 BOOLEAN,
    unit_price               DECIMAL(18,2),
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (part_no)
);
COMMENT ON TABLE core.parts IS 'Parts catalogue (配件目录) from head office: one row per part; key part_no.';
COMMENT ON COLUMN core.parts.part_no IS 'Part number [配件编号]';
COMMENT ON COLUMN core.parts.name IS 'Part name [配件名称]';
COMMENT ON COLUMN core.parts.component IS 'Component the part belongs to [部件类别]; codes: motor=电机, controller=控制器, rear_axle=后桥, differential=差速器, frame=车架, front_shock=前减震, rim_weld=轮辋焊合, other=其他';
COMMENT ON COLUMN core.parts.critical IS 'Critical part; when the sheet leaves it blank: its component is one of the seven critical components [是否关键件]';
COMMENT ON COLUMN core.parts.unit_price IS 'Unit price (yuan), >= 0 [单价]';
COMMENT ON COLUMN core.parts.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.parts.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.parts.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.parts.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.parts.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.campaigns (
    campaign_id              VARCHAR NOT NULL,
    name                     VARCHAR NOT NULL,
    campaign_type            VARCHAR CHECK (campaign_type IN ('social', 'discount', 'free_check')),
    start_date               DATE NOT NULL,
    end_date                 DATE,
    region                   VARCHAR,
    model                    VARCHAR,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id)
);
COMMENT ON TABLE core.campaigns IS 'Customer campaigns (活动) from head office: one row per campaign; key campaign_id.';
COMMENT ON COLUMN core.campaigns.campaign_id IS 'Campaign number [活动编号]';
COMMENT ON COLUMN core.campaigns.name IS 'Campaign name [活动名称]';
COMMENT ON COLUMN core.campaigns.campaign_type IS 'social, discount, free_check [活动类型]; codes: social=联谊活动, discount=优惠服务, free_check=免费检测';
COMMENT ON COLUMN core.campaigns.start_date IS 'First day of the campaign [开始日期]';
COMMENT ON COLUMN core.campaigns.end_date IS 'Last day of the campaign, >= start [结束日期]';
COMMENT ON COLUMN core.campaigns.region IS 'Region the campaign is for; blank = all [适用区域]';
COMMENT ON COLUMN core.campaigns.model IS 'Vehicle model the campaign is for; blank = all [适用车型]';
COMMENT ON COLUMN core.campaigns.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.campaigns.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.campaigns.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.campaigns.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.campaigns.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.customers (
    dealer_code              VARCHAR NOT NULL,
    customer_id              VARCHAR NOT NULL,
    name                     VARCHAR NOT NULL,
    phone                    VARCHAR NOT NULL,
    address                  VARCHAR,
    region                   VARCHAR,
    contact_person           VARCHAR,
    preferred_services       VARCHAR,
    valid_from               DATE NOT NULL,
    valid_to                 DATE,
    is_current               BOOLEAN GENERATED ALWAYS AS (valid_to IS NULL) VIRTUAL,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, customer_id, valid_from)
);
COMMENT ON TABLE core.customers IS 'Customers (客户档案) with history of their own attributes: one row per version of a customer; key (dealer_code, customer_id, valid_from), the current version has valid_to NULL. Versions of a customer never overlap. Vehicles are in core.vehicles.';
COMMENT ON COLUMN core.customers.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.customers.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.customers.name IS 'Customer name (person or company) [客户名称]';
COMMENT ON COLUMN core.customers.phone IS 'Phone, digits only: 11-digit mobile or landline with area code [联系电话]';
COMMENT ON COLUMN core.customers.address IS 'Postal address [地址]';
COMMENT ON COLUMN core.customers.region IS 'Customer''s region; defaults to the dealer''s region [地区]';
COMMENT ON COLUMN core.customers.contact_person IS 'Contact person at the customer [联系人]';
COMMENT ON COLUMN core.customers.preferred_services IS 'Services the customer would like [客户希望得到的服务]';
COMMENT ON COLUMN core.customers.valid_from IS 'First day this version holds (the as-of day of the run that saw it)';
COMMENT ON COLUMN core.customers.valid_to IS 'First day this version no longer holds (exclusive); NULL while it is the current version';
COMMENT ON COLUMN core.customers.is_current IS 'True for the current version (valid_to IS NULL)';
COMMENT ON COLUMN core.customers.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.customers.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.customers.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.customers.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.customers.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.vehicles (
    dealer_code              VARCHAR NOT NULL,
    vin                      VARCHAR NOT NULL,
    customer_id              VARCHAR NOT NULL,
    plate_no                 VARCHAR,
    model                    VARCHAR NOT NULL,
    vehicle_type             VARCHAR,
    purchase_date            DATE,
    warranty_end             DATE,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, vin)
);
COMMENT ON TABLE core.vehicles IS 'Vehicles from the customer files (客户档案): one row per vehicle of a dealer; key (dealer_code, vin); customer_id is its current owner.';
COMMENT ON COLUMN core.vehicles.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.vehicles.vin IS 'Vehicle identification number, 17 characters, no I/O/Q [车架号]';
COMMENT ON COLUMN core.vehicles.customer_id IS 'Customer the vehicle belongs to (the latest customer file that lists it) [客户编号]';
COMMENT ON COLUMN core.vehicles.plate_no IS 'Licence plate [车牌号]';
COMMENT ON COLUMN core.vehicles.model IS 'Vehicle model [车型]';
COMMENT ON COLUMN core.vehicles.vehicle_type IS 'Vehicle type [车种]';
COMMENT ON COLUMN core.vehicles.purchase_date IS 'Purchase date, not in the future [购车日期]';
COMMENT ON COLUMN core.vehicles.warranty_end IS 'End of warranty; when the sheet leaves it blank: purchase date + the configured warranty months [保修截止日期]';
COMMENT ON COLUMN core.vehicles.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.vehicles.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.vehicles.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.vehicles.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.vehicles.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.service_visits (
    dealer_code              VARCHAR NOT NULL,
    work_order_no            VARCHAR NOT NULL,
    customer_id              VARCHAR NOT NULL,
    vin                      VARCHAR NOT NULL,
    intake_date              DATE NOT NULL,
    pickup_date              DATE,
    visit_type               VARCHAR NOT NULL CHECK (visit_type IN ('maintenance', 'repair', 'warranty', 'consultation')),
    service_items            VARCHAR,
    parts_used               VARCHAR,
    mileage_km               BIGINT,
    amount                   DECIMAL(18,2),
    maintenance_cycle_days   BIGINT,
    next_maintenance_date    DATE,
    under_warranty           BOOLEAN,
    advisor                  VARCHAR,
    has_customer_file        BOOLEAN NOT NULL,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, work_order_no)
);
COMMENT ON TABLE core.service_visits IS 'Service visits (维修保养记录): one row per work order; key (dealer_code, work_order_no). Derived fields filled: next_maintenance_date, under_warranty, has_customer_file.';
COMMENT ON COLUMN core.service_visits.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.service_visits.work_order_no IS 'Work order number, unique within the dealer [工单号]';
COMMENT ON COLUMN core.service_visits.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.service_visits.vin IS 'Vehicle identification number [车架号]';
COMMENT ON COLUMN core.service_visits.intake_date IS 'Day the vehicle came in (or the consultation) [进厂日期]';
COMMENT ON COLUMN core.service_visits.pickup_date IS 'Day the vehicle left the shop; blank while still in [出厂日期]';
COMMENT ON COLUMN core.service_visits.visit_type IS 'maintenance, repair, warranty, consultation [类型]; codes: maintenance=保养, repair=维修, warranty=保修, consultation=咨询';
COMMENT ON COLUMN core.service_visits.service_items IS 'Work done [维修保养项目]';
COMMENT ON COLUMN core.service_visits.parts_used IS 'Part numbers replaced, separated by , ; 、 or spaces [更换配件]';
COMMENT ON COLUMN core.service_visits.mileage_km IS 'Odometer in km, 0 to 1,000,000 [里程]';
COMMENT ON COLUMN core.service_visits.amount IS 'Amount charged (yuan), 2 decimals, >= 0 [金额]';
COMMENT ON COLUMN core.service_visits.maintenance_cycle_days IS 'Maintenance cycle in days, 1 to 730 [保养周期(天)]';
COMMENT ON COLUMN core.service_visits.next_maintenance_date IS 'Next maintenance; when the sheet leaves it blank and gives a cycle: pickup (else intake) + cycle [下次保养日期]';
COMMENT ON COLUMN core.service_visits.under_warranty IS 'Visit in the warranty period; when the sheet leaves it blank: the vehicle''s warranty_end (core.vehicles) >= intake_date, NULL while the vehicle is unknown [是否保修期内]';
COMMENT ON COLUMN core.service_visits.advisor IS 'Service advisor [服务顾问]';
COMMENT ON COLUMN core.service_visits.has_customer_file IS 'The visit''s customer (dealer_code, customer_id) has a customer file in core.customers; false = loaded without one (see quarantine rule no_customer_file)';
COMMENT ON COLUMN core.service_visits.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.service_visits.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.service_visits.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.service_visits.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.service_visits.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.follow_up_calls (
    dealer_code              VARCHAR NOT NULL,
    call_id                  VARCHAR NOT NULL,
    call_time                TIMESTAMP NOT NULL,
    direction                VARCHAR CHECK (direction IN ('outbound', 'inbound')),
    call_type                VARCHAR NOT NULL CHECK (call_type IN ('first_follow_up', 'second_follow_up', 'maintenance_reminder', 'campaign_notice', 'complaint_callback', 'inquiry', 'complaint', 'other')),
    customer_id              VARCHAR NOT NULL,
    work_order_no            VARCHAR,
    campaign_id              VARCHAR,
    complaint_id             VARCHAR,
    staff                    VARCHAR NOT NULL,
    outcome                  VARCHAR NOT NULL CHECK (outcome IN ('reached', 'no_answer', 'wrong_number', 'refused')),
    satisfaction             VARCHAR CHECK (satisfaction IN ('satisfied', 'fair', 'dissatisfied')),
    customer_request         VARCHAR,
    needs_action             BOOLEAN,
    notes                    VARCHAR,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, call_id)
);
COMMENT ON TABLE core.follow_up_calls IS 'Follow-up calls (跟踪服务电话记录/登记表), inbound and outbound: one row per call; key (dealer_code, call_id).';
COMMENT ON COLUMN core.follow_up_calls.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.follow_up_calls.call_id IS 'Call record number, unique within the dealer [记录编号]';
COMMENT ON COLUMN core.follow_up_calls.call_time IS 'When the call took place (a date alone = 00:00) [通话时间]';
COMMENT ON COLUMN core.follow_up_calls.direction IS 'outbound (when the sheet leaves it blank) or inbound [呼入/呼出]; codes: outbound=呼出, inbound=呼入';
COMMENT ON COLUMN core.follow_up_calls.call_type IS 'What the call was for [通话类型]; codes: first_follow_up=首次回访, second_follow_up=二次回访, maintenance_reminder=保养提醒, campaign_notice=活动通知, complaint_callback=投诉回访, inquiry=咨询, complaint=投诉, other=其他';
COMMENT ON COLUMN core.follow_up_calls.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.follow_up_calls.work_order_no IS 'Work order followed up (required for follow-ups) [工单号]';
COMMENT ON COLUMN core.follow_up_calls.campaign_id IS 'Campaign notified (required for campaign notices) [活动编号]';
COMMENT ON COLUMN core.follow_up_calls.complaint_id IS 'Complaint called back (required for complaint call-backs) [投诉编号]';
COMMENT ON COLUMN core.follow_up_calls.staff IS 'Staff member who made or took the call [业务员]';
COMMENT ON COLUMN core.follow_up_calls.outcome IS 'reached, no_answer, wrong_number, refused [结果]; codes: reached=接通, no_answer=未接通, wrong_number=空号/错号, refused=拒访';
COMMENT ON COLUMN core.follow_up_calls.satisfaction IS 'satisfied, fair, dissatisfied [满意度]; codes: satisfied=满意, fair=基本满意, dissatisfied=不满意';
COMMENT ON COLUMN core.follow_up_calls.customer_request IS 'What the customer asked or said [客户意见/要求]';
COMMENT ON COLUMN core.follow_up_calls.needs_action IS 'A request that could not be answered on the call [是否需处理]';
COMMENT ON COLUMN core.follow_up_calls.notes IS 'Notes [备注]';
COMMENT ON COLUMN core.follow_up_calls.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.follow_up_calls.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.follow_up_calls.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.follow_up_calls.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.follow_up_calls.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.letters (
    dealer_code              VARCHAR NOT NULL,
    letter_id                VARCHAR NOT NULL,
    customer_id              VARCHAR NOT NULL,
    sent_date                DATE NOT NULL,
    letter_type              VARCHAR NOT NULL CHECK (letter_type IN ('notice', 'invitation', 'reply')),
    campaign_id              VARCHAR,
    notes                    VARCHAR,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, letter_id)
);
COMMENT ON TABLE core.letters IS 'Follow-up letters (跟踪服务信函登记表): one row per letter sent; key (dealer_code, letter_id).';
COMMENT ON COLUMN core.letters.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.letters.letter_id IS 'Letter number, unique within the dealer [信函编号]';
COMMENT ON COLUMN core.letters.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.letters.sent_date IS 'Day the letter was sent [寄出日期]';
COMMENT ON COLUMN core.letters.letter_type IS 'notice, invitation, reply [信函类型]; codes: notice=通知, invitation=邀请函, reply=答复函';
COMMENT ON COLUMN core.letters.campaign_id IS 'Campaign the letter is about (a known campaign) [活动编号]';
COMMENT ON COLUMN core.letters.notes IS 'Notes [备注]';
COMMENT ON COLUMN core.letters.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.letters.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.letters.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.letters.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.letters.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.complaints (
    dealer_code              VARCHAR NOT NULL,
    complaint_id             VARCHAR NOT NULL,
    received_date            DATE NOT NULL,
    customer_id              VARCHAR NOT NULL,
    vin                      VARCHAR,
    channel                  VARCHAR CHECK (channel IN ('phone', 'visit', 'letter', 'online')),
    category                 VARCHAR NOT NULL CHECK (category IN ('product_quality', 'repair_quality', 'service_attitude', 'parts_supply', 'timeliness', 'other')),
    component                VARCHAR CHECK (component IN ('motor', 'controller', 'rear_axle', 'differential', 'frame', 'front_shock', 'rim_weld', 'other')),
    description              VARCHAR NOT NULL,
    severity                 VARCHAR CHECK (severity IN ('low', 'medium', 'high')),
    escalated_date           DATE,
    resolved_date            DATE,
    resolution               VARCHAR,
    customer_satisfied       BOOLEAN,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dealer_code, complaint_id)
);
COMMENT ON TABLE core.complaints IS 'Complaints (投诉登记): one row per complaint; key (dealer_code, complaint_id).';
COMMENT ON COLUMN core.complaints.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.complaints.complaint_id IS 'Complaint number, unique within the dealer [投诉编号]';
COMMENT ON COLUMN core.complaints.received_date IS 'Day the complaint was received [受理日期]';
COMMENT ON COLUMN core.complaints.customer_id IS 'Customer number, unique within the dealer [客户编号]';
COMMENT ON COLUMN core.complaints.vin IS 'Vehicle concerned [车架号]';
COMMENT ON COLUMN core.complaints.channel IS 'phone, visit, letter, online [来源]; codes: phone=电话, visit=来访, letter=信函, online=网络';
COMMENT ON COLUMN core.complaints.category IS 'What the complaint is about [类别]; codes: product_quality=产品质量, repair_quality=维修质量, service_attitude=服务态度, parts_supply=配件供应, timeliness=时效, other=其他';
COMMENT ON COLUMN core.complaints.component IS 'Critical component concerned, if any [部件]; codes: motor=电机, controller=控制器, rear_axle=后桥, differential=差速器, frame=车架, front_shock=前减震, rim_weld=轮辋焊合, other=其他';
COMMENT ON COLUMN core.complaints.description IS 'What the customer complained of [投诉内容]';
COMMENT ON COLUMN core.complaints.severity IS 'low, medium (when the sheet leaves it blank), high [严重程度]; codes: low=一般, medium=较重, high=严重';
COMMENT ON COLUMN core.complaints.escalated_date IS 'Day it was reported to the supervisor [上报日期]';
COMMENT ON COLUMN core.complaints.resolved_date IS 'Day it was resolved [解决日期]';
COMMENT ON COLUMN core.complaints.resolution IS 'How it was resolved (required once resolved) [处理结果]';
COMMENT ON COLUMN core.complaints.customer_satisfied IS 'Customer satisfied with the resolution [客户是否满意]';
COMMENT ON COLUMN core.complaints.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.complaints.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.complaints.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.complaints.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.complaints.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.part_shipments (
    shipment_line_id         VARCHAR NOT NULL,
    order_no                 VARCHAR NOT NULL,
    dealer_code              VARCHAR NOT NULL,
    part_no                  VARCHAR NOT NULL,
    qty_ordered              BIGINT NOT NULL,
    qty_shipped              BIGINT NOT NULL,
    ship_date                DATE NOT NULL,
    shipped_correct          BOOLEAN,
    error_type               VARCHAR CHECK (error_type IN ('wrong_part', 'wrong_qty', 'damaged', 'missing')),
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shipment_line_id)
);
COMMENT ON TABLE core.part_shipments IS 'Parts shipped by the after-sales warehouse (配件出库记录): one row per shipment line; key shipment_line_id (global).';
COMMENT ON COLUMN core.part_shipments.shipment_line_id IS 'Shipment line number, globally unique [出库单行号]';
COMMENT ON COLUMN core.part_shipments.order_no IS 'Dealer''s order number [订单号]';
COMMENT ON COLUMN core.part_shipments.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.part_shipments.part_no IS 'Part number (a known part) [配件编号]';
COMMENT ON COLUMN core.part_shipments.qty_ordered IS 'Quantity ordered, > 0 [订购数量]';
COMMENT ON COLUMN core.part_shipments.qty_shipped IS 'Quantity shipped, >= 0 [发货数量]';
COMMENT ON COLUMN core.part_shipments.ship_date IS 'Day shipped [发货日期]';
COMMENT ON COLUMN core.part_shipments.shipped_correct IS 'Shipped correctly (true when the sheet leaves it blank) [发货是否正确]';
COMMENT ON COLUMN core.part_shipments.error_type IS 'Kind of shipping error, when incorrect [差错类型]; codes: wrong_part=错发, wrong_qty=数量差错, damaged=破损, missing=漏发';
COMMENT ON COLUMN core.part_shipments.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.part_shipments.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.part_shipments.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.part_shipments.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.part_shipments.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.part_failures (
    feedback_id              VARCHAR NOT NULL,
    report_date              DATE NOT NULL,
    dealer_code              VARCHAR NOT NULL,
    vin                      VARCHAR,
    part_no                  VARCHAR NOT NULL,
    component                VARCHAR CHECK (component IN ('motor', 'controller', 'rear_axle', 'differential', 'frame', 'front_shock', 'rim_weld', 'other')),
    batch_no                 VARCHAR,
    production_date          DATE,
    mileage_km               BIGINT,
    failure_mode             VARCHAR NOT NULL,
    work_order_no            VARCHAR,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (feedback_id)
);
COMMENT ON TABLE core.part_failures IS 'Part-quality feedback (配件质量反馈): one row per failure report; key feedback_id (global). component is the part''s component when the sheet gives none.';
COMMENT ON COLUMN core.part_failures.feedback_id IS 'Feedback number, globally unique [反馈编号]';
COMMENT ON COLUMN core.part_failures.report_date IS 'Day the failure was reported [反馈日期]';
COMMENT ON COLUMN core.part_failures.dealer_code IS 'Dealer code (a known dealer), trimmed and upper-cased [经销商代码]';
COMMENT ON COLUMN core.part_failures.vin IS 'Vehicle concerned [车架号]';
COMMENT ON COLUMN core.part_failures.part_no IS 'Part number (a known part) [配件编号]';
COMMENT ON COLUMN core.part_failures.component IS 'Component; when the sheet leaves it blank: the part''s component in core.parts [部件类别]; codes: motor=电机, controller=控制器, rear_axle=后桥, differential=差速器, frame=车架, front_shock=前减震, rim_weld=轮辋焊合, other=其他';
COMMENT ON COLUMN core.part_failures.batch_no IS 'Production batch of the part [批次号]';
COMMENT ON COLUMN core.part_failures.production_date IS 'Production date of the part, <= report date [生产日期]';
COMMENT ON COLUMN core.part_failures.mileage_km IS 'Odometer at failure, 0 to 1,000,000 [故障里程]';
COMMENT ON COLUMN core.part_failures.failure_mode IS 'What failed and how [故障现象]';
COMMENT ON COLUMN core.part_failures.work_order_no IS 'Work order of the repair [工单号]';
COMMENT ON COLUMN core.part_failures.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.part_failures.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.part_failures.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.part_failures.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.part_failures.loaded_at IS 'When the row was last changed in the warehouse';

CREATE TABLE core.part_batches (
    part_no                  VARCHAR NOT NULL,
    batch_no                 VARCHAR NOT NULL,
    production_date          DATE NOT NULL,
    quantity                 BIGINT NOT NULL,
    supplier                 VARCHAR,
    run_id                   BIGINT NOT NULL,
    file_sha256              VARCHAR NOT NULL,
    sheet                    VARCHAR NOT NULL,
    excel_row                INTEGER NOT NULL,
    loaded_at                TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (part_no, batch_no)
);
COMMENT ON TABLE core.part_batches IS 'Production batches of parts and their sizes (配件批次): one row per batch; key (part_no, batch_no).';
COMMENT ON COLUMN core.part_batches.part_no IS 'Part number (a known part) [配件编号]';
COMMENT ON COLUMN core.part_batches.batch_no IS 'Production batch [批次号]';
COMMENT ON COLUMN core.part_batches.production_date IS 'Production date of the batch [生产日期]';
COMMENT ON COLUMN core.part_batches.quantity IS 'Units in the batch, > 0 [批次数量]';
COMMENT ON COLUMN core.part_batches.supplier IS 'Supplier [供应商]';
COMMENT ON COLUMN core.part_batches.run_id IS 'Run (etl.runs) that last changed the row';
COMMENT ON COLUMN core.part_batches.file_sha256 IS 'SHA-256 of the workbook whose row last changed this one (etl.files.sha256)';
COMMENT ON COLUMN core.part_batches.sheet IS 'Sheet name, as written in that workbook';
COMMENT ON COLUMN core.part_batches.excel_row IS 'Row number in that sheet as the steward sees it in Excel (1-based)';
COMMENT ON COLUMN core.part_batches.loaded_at IS 'When the row was last changed in the warehouse';
