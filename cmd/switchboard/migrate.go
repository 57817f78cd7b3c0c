package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// migrate prepares PostgreSQL and Temporal for this version; running it again changes nothing.
func migrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := schema.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	db := schema.Open(cfg.DatabaseURL)
	defer db.Close()
	applied, err := schema.Migrate(ctx, db)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info("database migrated", "applied", applied)
	if cfg.AdminToken != "" {
		if _, err := api.EnsureAdmin(ctx, db, cfg.AdminToken); err != nil {
			return err
		}
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace})
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	defer c.Close()
	added, err := registerSearchAttributes(ctx, c, cfg.TemporalNamespace)
	if err != nil {
		return err
	}
	log.Info("search attributes registered", "added", added)
	return nil
}

var indexedTypes = map[string]enumspb.IndexedValueType{
	"Int": enumspb.INDEXED_VALUE_TYPE_INT, "Keyword": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"Datetime": enumspb.INDEXED_VALUE_TYPE_DATETIME, "KeywordList": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// registerSearchAttributes adds the search attributes the workflows use that the namespace lacks.
func registerSearchAttributes(ctx context.Context, c client.Client, namespace string) ([]string, error) {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	var names []string
	for name, typ := range workflows.SearchAttributeTypes {
		if want := indexedTypes[typ]; have.CustomAttributes[name] != want {
			if _, exists := have.CustomAttributes[name]; exists {
				return nil, fmt.Errorf("search attribute %s exists with type %s, want %s", name, have.CustomAttributes[name], want)
			}
			missing[name] = want
			names = append(names, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return nil, fmt.Errorf("add search attributes %v: %w", names, err)
	}
	return names, nil
}

func tokenCommand(ctx context.Context, cfg Config, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: switchboard token create --person <id|email> --name <name> [--scopes a,b]")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	person := fs.String("person", "", "id or e-mail address of the person the token acts for")
	name := fs.String("name", "cli", "a name to recognise the token by")
	scopes := fs.String("scopes", "", "comma-separated scopes (empty: everything the person's role allows): "+strings.Join(api.Scopes, ","))
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *person == "" {
		return errors.New("--person is required")
	}
	db := schema.Open(cfg.DatabaseURL)
	defer db.Close()
	var id string
	err := db.NewSelect().Model((*schema.Person)(nil)).Column("id").
		Where("id = ? OR ? = ANY(emails)", *person, strings.ToLower(*person)).Limit(1).Scan(ctx, &id)
	if err != nil {
		return fmt.Errorf("no person with id or e-mail %q: %w", *person, err)
	}
	var list []string
	for _, s := range strings.Split(*scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !contains(api.Scopes, s) {
				return fmt.Errorf("unknown scope %q; allowed: %s", s, strings.Join(api.Scopes, ", "))
			}
			list = append(list, s)
		}
	}
	token := api.NewToken()
	if _, err := api.CreateToken(ctx, db, id, *name, list, token); err != nil {
		return err
	}
	fmt.Fprintln(os.Stdout, token)
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
