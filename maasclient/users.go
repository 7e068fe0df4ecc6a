package maasclient

import (
	"context"
	"net/url"
	"strconv"
)

// User is a MAAS user.
type User struct {
	Username    string `json:"username"`
	Email       string `json:"email"`
	IsSuperuser bool   `json:"is_superuser"`
	IsLocal     bool   `json:"is_local"`
	ResourceURI string `json:"resource_uri"`
}

// UserRequest creates a user.
type UserRequest struct {
	Username    string
	Email       string
	Password    string
	IsSuperuser bool
}

func userPath(name string) string { return "users/" + url.PathEscape(name) + "/" }

// Users lists the users.
func (c *Client) Users(ctx context.Context) ([]User, error) {
	return get[[]User](ctx, c, "users/", "", nil)
}

// User reads one user.
func (c *Client) User(ctx context.Context, username string) (User, error) {
	return get[User](ctx, c, userPath(username), "", nil)
}

// WhoAmI is the user the client authenticates as.
func (c *Client) WhoAmI(ctx context.Context) (User, error) {
	return get[User](ctx, c, "users/", "whoami", nil)
}

// CreateUser adds a user (admin only).
func (c *Client) CreateUser(ctx context.Context, u UserRequest) (User, error) {
	su := "0"
	if u.IsSuperuser {
		su = "1"
	}
	p := (&Params{}).Add("username", u.Username).Add("email", u.Email).Add("password", u.Password).Add("is_superuser", su)
	return post[User](ctx, c, "users/", "", p)
}

// DeleteUser removes a user.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	return c.Delete(ctx, userPath(username))
}

// SSHKey is a public key of the client's user, installed on deployed machines.
type SSHKey struct {
	ID          int    `json:"id"`
	Key         string `json:"key"`
	Keysource   string `json:"keysource"`
	ResourceURI string `json:"resource_uri"`
}

const sshKeysPath = "account/prefs/sshkeys/"

// SSHKeys lists the user's SSH keys.
func (c *Client) SSHKeys(ctx context.Context) ([]SSHKey, error) {
	return get[[]SSHKey](ctx, c, sshKeysPath, "", nil)
}

// AddSSHKey adds a public key ("ssh-ed25519 AAAA... comment").
func (c *Client) AddSSHKey(ctx context.Context, key string) (SSHKey, error) {
	return post[SSHKey](ctx, c, sshKeysPath, "", (&Params{}).Add("key", key))
}

// DeleteSSHKey removes a key.
func (c *Client) DeleteSSHKey(ctx context.Context, id int) error {
	return c.Delete(ctx, sshKeysPath+strconv.Itoa(id)+"/")
}
