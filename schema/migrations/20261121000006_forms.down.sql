DROP TABLE IF EXISTS display_rules, custom_fields;
