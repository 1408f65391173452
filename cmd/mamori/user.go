package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/mamori-dev/mamori/internal/account"
	"github.com/mamori-dev/mamori/internal/store"
)

func init() {
	register("user", "manage the server's user accounts on its data directory", runUser)
	capabilities = append(capabilities, account.Capability)
}

const userUsage = `usage: mamori user add --data DIR --name NAME --role ROLE [--reason TEXT]
       mamori user list --data DIR
       mamori user disable|enable --data DIR --name NAME [--reason TEXT]
       mamori user token --data DIR --name NAME [--reason TEXT]
       mamori user passwd --data DIR --name NAME    (password from the terminal, or one line of stdin)
roles: ` + "admin, responder, privacy, auditor, viewer"

func runUser(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, userUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, userUsage) }
	var data, db, name, role, reason string
	fs.StringVar(&data, "data", "", "the server's data `DIR`")
	fs.StringVar(&db, "db", "", "database: postgres://… `URL` or SQLite path (default DIR/mamori.db)")
	fs.StringVar(&name, "name", "", "user `NAME`")
	fs.StringVar(&role, "role", "", "`ROLE`: admin, responder, privacy, auditor or viewer")
	fs.StringVar(&reason, "reason", "", "why, for the audit log")
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "mamori user %s: "+format+"\n", append([]any{sub}, a...)...)
		return code
	}
	switch sub {
	case "add", "list", "disable", "enable", "token", "passwd":
	default:
		fmt.Fprintf(stderr, "mamori user: unknown subcommand %q\n%s\n", sub, userUsage)
		return 2
	}
	if data == "" {
		return fail(2, "--data DIR is required")
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if sub != "list" && name == "" {
		return fail(2, "--name is required")
	}
	if sub == "add" {
		if err := account.ValidName(name); err != nil {
			return fail(2, "%v", err)
		}
		if _, err := account.ParseRole(role); err != nil {
			return fail(2, "--role: %v", err)
		}
	}
	var password string
	if sub == "passwd" {
		var err error
		if password, err = readPassword(stderr); err != nil {
			return fail(2, "%v", err)
		}
		if _, err := account.HashPassword(password); err != nil {
			return fail(2, "%v", err)
		}
	}
	if db == "" {
		db = filepath.Join(data, "mamori.db")
		if _, err := os.Stat(db); err != nil {
			return fail(2, "--data %s: no database (start mamori server --data %s once, or give --db): %v", data, data, err)
		}
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer st.Close()

	now := time.Now().UTC().Truncate(time.Millisecond)
	var token string
	switch sub {
	case "list":
		us, err := account.List(ctx, st, "", 1<<30)
		if err != nil {
			return fail(1, "%v", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED\tBY")
		for _, u := range us {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, state, u.CreatedAt.Format(time.RFC3339), u.CreatedBy)
		}
		tw.Flush()
		return 0
	case "add":
		err = st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			u := account.User{Name: name, Role: account.Role(role), CreatedAt: now, CreatedBy: "local"}
			if token, err = account.Add(ctx, tx, u); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, account.LocalAudit(now, "user.add", name, reason, "role="+role))
		})
	case "disable", "enable":
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if err := account.SetDisabled(ctx, tx, name, sub == "disable"); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, account.LocalAudit(now, "user."+sub, name, reason, ""))
		})
	case "token":
		err = st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if token, err = account.MintToken(ctx, tx, name, now); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, account.LocalAudit(now, "user.token", name, reason, ""))
		})
	case "passwd":
		hash, herr := account.HashPassword(password)
		if herr != nil {
			return fail(2, "%v", herr)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if err := account.SetPassword(ctx, tx, name, hash); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, account.LocalAudit(now, "user.passwd", name, reason, ""))
		})
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, account.ErrExists) {
		return fail(1, "%v", err)
	}
	if err != nil {
		return fail(2, "%v", err)
	}
	if token != "" {
		// The token alone on stdout, so that it can be piped to a file.
		fmt.Fprintln(stdout, token)
	}
	return 0
}

// readPassword reads a password twice from the terminal without echo, or
// one line from stdin when it is not a terminal.
func readPassword(stderr io.Writer) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fmt.Fprint(stderr, "new password: ")
	p1, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "again: ")
	p2, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if string(p1) != string(p2) {
		return "", errors.New("the passwords differ")
	}
	return string(p1), nil
}
