/*
 * version.h - the one version of nettally, printed by every program's
 * --version.  The wire protocol (PROTO_VERSION, proto.h) and the database
 * schema (SCHEMA_VERSION, stored/schema.h) have versions of their own,
 * which change only when their format does.
 */
#ifndef NETTALLY_VERSION_H
#define NETTALLY_VERSION_H

#define NETTALLY_VERSION	"0.1.0"

#endif
