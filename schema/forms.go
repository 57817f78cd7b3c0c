package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// Custom field types.
const (
	FieldText         = "text"
	FieldNumber       = "number"
	FieldDate         = "date"
	FieldSingleSelect = "single_select"
	FieldMultiSelect  = "multi_select"
	FieldBoolean      = "boolean"
	FieldPerson       = "person"
	FieldTeam         = "team"
)

// FieldTypes lists every custom field type.
var FieldTypes = []string{FieldText, FieldNumber, FieldDate, FieldSingleSelect, FieldMultiSelect, FieldBoolean,
	FieldPerson, FieldTeam}

// CustomField defines one custom field of tickets or persons: its value lives under Key in the
// record's customFields. Keys are unique per entity (case-insensitively) and never change.
type CustomField struct {
	bun.BaseModel `bun:"table:custom_fields" json:"-"`

	ID        string    `bun:"id,pk" json:"id"`
	Entity    string    `bun:"entity" json:"entity"`
	Key       string    `bun:"key" json:"key"`
	Label     string    `bun:"label" json:"label"`
	Type      string    `bun:"type" json:"type"`
	Options   []string  `bun:"options,array" json:"options"`
	IsActive  bool      `bun:"is_active" json:"isActive"`
	Position  int       `bun:"position" json:"position"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt time.Time `bun:"updated_at" json:"updatedAt"`
}

// DisplayRule shapes the ticket form: when its condition holds, the fields it names take the
// visibility, requiredness and editability it gives them. Rules apply in position order; a
// later matching rule overrides an earlier one for the fields it names.
type DisplayRule struct {
	bun.BaseModel `bun:"table:display_rules" json:"-"`

	ID        string             `bun:"id,pk" json:"id"`
	Name      string             `bun:"name" json:"name"`
	Entity    string             `bun:"entity" json:"entity"`
	Condition string             `bun:"condition" json:"condition"`
	Fields    []DisplayRuleField `bun:"fields,type:jsonb" json:"fields"`
	Position  int                `bun:"position" json:"position"`
	Enabled   bool               `bun:"enabled" json:"enabled"`
	// Version rises with every edit; compiled conditions are cached by (id, version).
	Version   int       `bun:"version" json:"version"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt time.Time `bun:"updated_at" json:"updatedAt"`
}

// DisplayRuleField is how a display rule shows one custom field.
type DisplayRuleField struct {
	Key      string `json:"key"`
	Visible  bool   `json:"visible"`
	Required bool   `json:"required"`
	ReadOnly bool   `json:"readOnly"`
}
