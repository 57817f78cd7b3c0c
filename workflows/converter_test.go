package workflows

import (
	"context"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
)

func converterFor() converter.DataConverter { return converter.GetDefaultDataConverter() }

var mockAny = mock.Anything

type ctxT = context.Context
