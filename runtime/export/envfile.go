package export

import (
	"errors"
	"os"
	"sync"

	"github.com/tracegen-dev/tracegen/runtime/internal/dotenv"
)

// EnvFileVar names the dotenv file that tracegen's settings are read from
// besides the environment (Config.EnvFile in package trace sets it too).
const EnvFileVar = "TRACEGEN_ENV_FILE"

// EnvFileError is a line of the env file that does not parse; the line is
// skipped and the rest of the file applies. Its message, "file:line: msg",
// never shows the line's text, which may hold a secret.
type EnvFileError struct {
	File string
	Line int
	Msg  string
}

// Error returns "file:line: msg".
func (e *EnvFileError) Error() string {
	return (&dotenv.SyntaxError{File: e.File, Line: e.Line, Msg: e.Msg}).Error()
}

var envFile struct {
	once sync.Once // reads EnvFileVar at the first lookup unless UseEnvFile ran
	mu   sync.RWMutex
	path string
	vals map[string]string
	err  error
}

// LookupEnv is os.LookupEnv with the env file behind it: a variable set in
// the environment to a non-empty value wins (tracegen treats an empty
// variable as unset everywhere); otherwise it is looked up in the file
// named by TRACEGEN_ENV_FILE (or installed with UseEnvFile). Every
// setting of tracegen and of its exporters is read through it. The file's
// values are not put into the process environment: the program's own
// os.Getenv does not see them.
func LookupEnv(key string) (string, bool) {
	v, ok := os.LookupEnv(key)
	if v != "" {
		return v, true
	}
	envFile.once.Do(func() { loadEnvFile(os.Getenv(EnvFileVar)) })
	envFile.mu.RLock()
	defer envFile.mu.RUnlock()
	if fv, fok := envFile.vals[key]; fok {
		return fv, true
	}
	return v, ok
}

// Getenv is LookupEnv without the second result, like os.Getenv.
func Getenv(key string) string {
	v, _ := LookupEnv(key)
	return v
}

// UseEnvFile makes LookupEnv read path, replacing the file read before
// ("" reads none). It returns the file's problems joined: an error
// wrapping fs.ErrNotExist when it does not exist, an *EnvFileError per bad
// line (the good lines still apply).
func UseEnvFile(path string) error {
	envFile.once.Do(func() {})
	return loadEnvFile(path)
}

// EnvFile returns the path of the env file in use and the errors met
// reading it ("" and nil when there is none).
func EnvFile() (string, error) {
	envFile.once.Do(func() { loadEnvFile(os.Getenv(EnvFileVar)) })
	envFile.mu.RLock()
	defer envFile.mu.RUnlock()
	return envFile.path, envFile.err
}

func loadEnvFile(path string) error {
	var vals map[string]string
	var err error
	if path != "" {
		vals, err = readEnvFile(path)
	}
	envFile.mu.Lock()
	envFile.path, envFile.vals, envFile.err = path, vals, err
	envFile.mu.Unlock()
	return err
}

func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: names the file
	}
	defer f.Close()
	vals, errs := dotenv.Parse(f, path)
	for i, e := range errs {
		var se *dotenv.SyntaxError
		if errors.As(e, &se) {
			errs[i] = &EnvFileError{File: se.File, Line: se.Line, Msg: se.Msg}
		}
	}
	return vals, errors.Join(errs...)
}
