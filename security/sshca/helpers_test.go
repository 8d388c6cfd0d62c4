package sshca

import (
	"os"

	"github.com/gaffer-sre/gaffer/internal/platform/store/storetest"
)

func platformtestPostgres() bool { return os.Getenv(storetest.PostgresEnv) != "" }
