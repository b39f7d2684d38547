-- Records of every namespace, in one table. Keys sort byte-wise (COLLATE "C"),
-- as the storage contract requires for List. Revisions come from one
-- sequence, so they grow on every write and never repeat.
CREATE SEQUENCE arca_revision AS bigint MINVALUE 1;

CREATE TABLE arca_items (
	ns       text NOT NULL,
	key      text COLLATE "C" NOT NULL,
	value    bytea NOT NULL,
	revision bigint NOT NULL CHECK (revision > 0),
	PRIMARY KEY (ns, key)
);
