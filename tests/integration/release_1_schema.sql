-- Release 1's schema, exactly as SQLModel.metadata.create_all made it on SQLite (commit d0e03b4),
-- before there were migrations: what a database written by release 1 holds.

CREATE TABLE workshop (
    id INTEGER NOT NULL,
    team_id VARCHAR NOT NULL,
    channel_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    created_by VARCHAR NOT NULL,
    started_at DATETIME NOT NULL,
    finished_at DATETIME,
    current_step INTEGER NOT NULL,
    auto_advance BOOLEAN NOT NULL,
    digest_time VARCHAR,
    last_digest_score FLOAT,
    post_problem VARCHAR,
    PRIMARY KEY (id)
);
CREATE INDEX ix_workshop_channel ON workshop (team_id, channel_id, finished_at);
CREATE TABLE slack_event (
    event_id VARCHAR NOT NULL,
    team_id VARCHAR NOT NULL,
    payload JSON NOT NULL,
    received_at DATETIME NOT NULL,
    processed_at DATETIME,
    PRIMARY KEY (event_id)
);
CREATE INDEX ix_slack_event_unprocessed ON slack_event (processed_at, received_at);
CREATE TABLE slack_user (
    id INTEGER NOT NULL,
    team_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    tz VARCHAR,
    is_bot BOOLEAN NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (team_id, user_id)
);
CREATE TABLE channel_member (
    id INTEGER NOT NULL,
    team_id VARCHAR NOT NULL,
    channel_id VARCHAR NOT NULL,
    user_id VARCHAR NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (team_id, channel_id, user_id)
);
CREATE TABLE facilitator (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    user_id VARCHAR NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (workshop_id, user_id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id)
);
CREATE INDEX ix_facilitator_workshop_id ON facilitator (workshop_id);
CREATE TABLE steprun (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    timebox_seconds INTEGER NOT NULL,
    opened_at DATETIME,
    deadline_at DATETIME,
    closed_at DATETIME,
    prompt_ts VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (workshop_id, number),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id)
);
CREATE INDEX ix_steprun_workshop_id ON steprun (workshop_id);
CREATE TABLE element (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    added_by VARCHAR NOT NULL,
    created_at DATETIME NOT NULL,
    step_number INTEGER NOT NULL,
    position INTEGER,
    source_ts VARCHAR,
    message_ts VARCHAR,
    dropped_at DATETIME,
    merged_into INTEGER,
    renamed BOOLEAN NOT NULL,
    resolved BOOLEAN NOT NULL,
    on_element INTEGER,
    aggregate_id INTEGER,
    details JSON,
    PRIMARY KEY (id),
    UNIQUE (workshop_id, kind, number),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id),
    FOREIGN KEY(merged_into) REFERENCES element (id),
    FOREIGN KEY(on_element) REFERENCES element (id),
    FOREIGN KEY(aggregate_id) REFERENCES element (id)
);
CREATE INDEX ix_element_message ON element (workshop_id, message_ts) WHERE message_ts IS NOT NULL;
CREATE INDEX ix_element_position ON element (workshop_id, kind, position);
CREATE INDEX ix_element_source ON element (workshop_id, source_ts) WHERE source_ts IS NOT NULL;
CREATE TABLE contribution (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    step_number INTEGER NOT NULL,
    user_id VARCHAR NOT NULL,
    at DATETIME NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id)
);
CREATE INDEX ix_contribution_step ON contribution (workshop_id, step_number);
CREATE TABLE change (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    user_id VARCHAR NOT NULL,
    at DATETIME NOT NULL,
    summary VARCHAR NOT NULL,
    entries JSON NOT NULL,
    undone_at DATETIME,
    PRIMARY KEY (id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id)
);
CREATE INDEX ix_change_author ON change (workshop_id, user_id);
CREATE TABLE scheduled_post (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    step_number INTEGER,
    due_at DATETIME NOT NULL,
    payload JSON NOT NULL,
    status VARCHAR NOT NULL,
    claimed_at DATETIME,
    late BOOLEAN NOT NULL,
    error VARCHAR,
    PRIMARY KEY (id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id)
);
CREATE INDEX ix_scheduled_post_due ON scheduled_post (status, due_at);
CREATE TABLE name_key (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    name_key VARCHAR NOT NULL,
    element_id INTEGER NOT NULL,
    PRIMARY KEY (id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id),
    FOREIGN KEY(element_id) REFERENCES element (id)
);
CREATE INDEX ix_name_key ON name_key (workshop_id, kind, name_key);
CREATE TABLE link (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    source_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (source_id, kind, target_id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id),
    FOREIGN KEY(source_id) REFERENCES element (id),
    FOREIGN KEY(target_id) REFERENCES element (id)
);
CREATE INDEX ix_link_workshop_id ON link (workshop_id);
CREATE TABLE element_field (
    id INTEGER NOT NULL,
    element_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    generated BOOLEAN NOT NULL,
    origin VARCHAR,
    PRIMARY KEY (id),
    FOREIGN KEY(element_id) REFERENCES element (id)
);
CREATE INDEX ix_element_field_element_id ON element_field (element_id);
CREATE TABLE vote (
    id INTEGER NOT NULL,
    workshop_id INTEGER NOT NULL,
    element_id INTEGER NOT NULL,
    user_id VARCHAR NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    UNIQUE (element_id, user_id),
    FOREIGN KEY(workshop_id) REFERENCES workshop (id),
    FOREIGN KEY(element_id) REFERENCES element (id)
);
CREATE INDEX ix_vote_element_id ON vote (element_id);
CREATE INDEX ix_vote_workshop_id ON vote (workshop_id);
