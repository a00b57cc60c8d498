//! `rdpm server user ...`: the users who log in to the server with a
//! password, kept in the data directory's catalog. These commands work
//! whether the server runs or not.

use std::io::{BufRead, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use rdpm_server::users::{self, Catalog, MAX_PASSWORD_BYTES};
use rdpm_types::BuiltinRole;

/// `rdpm server user`: add, change and list the users who log in with a
/// password, and give them their built-in role.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Adds a user; the password is asked twice, without echo
    Add {
        /// The user's name: letters, digits, '.', '-', '_', '@'
        name: String,
        /// The built-in role: Administrator, Operator, Reader, or None
        /// (only what recovery roles of the user's groups give)
        #[arg(long, default_value = "Administrator", value_parser = role)]
        role: Role,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Gives a user a built-in role (open sessions follow within seconds)
    Role {
        /// The user's name
        name: String,
        /// Administrator, Operator, Reader, or None
        #[arg(value_parser = role)]
        role: Role,
    },
    /// Sets a user's password, and lifts a lock after failed logins
    Passwd {
        /// The user's name
        name: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Stops a user from logging in (open sessions stay open)
    Disable {
        /// The user's name
        name: String,
    },
    /// Lets a disabled or locked user log in again
    Enable {
        /// The user's name
        name: String,
    },
    /// Lists the users: name, role, enabled, locked, created
    List,
}

/// A built-in role, or none.
#[derive(Debug, Clone, Copy)]
pub struct Role(Option<BuiltinRole>);

fn role(value: &str) -> Result<Role, String> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(Role(None));
    }
    value
        .parse::<BuiltinRole>()
        .map(|r| Role(Some(r)))
        .map_err(|_| "not a role: use Administrator, Operator, Reader or None".to_string())
}

/// Where the new password comes from: never from the command line.
#[derive(Debug, clap::Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input, for
    /// scripts (instead of asking twice on the terminal)
    #[arg(long)]
    password_stdin: bool,
}

impl UserCommand {
    fn verb(&self) -> &'static str {
        match self {
            UserCommand::Add { .. } => "add",
            UserCommand::Role { .. } => "role",
            UserCommand::Passwd { .. } => "passwd",
            UserCommand::Disable { .. } => "disable",
            UserCommand::Enable { .. } => "enable",
            UserCommand::List => "list",
        }
    }
}

/// Runs a user command on `data_dir`; returns the process exit code.
pub fn main(data_dir: &Path, command: UserCommand) -> i32 {
    let verb = command.verb();
    match run(data_dir, command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rdpm server user {verb}: {e:#}");
            1
        }
    }
}

fn run(data_dir: &Path, command: UserCommand) -> Result<()> {
    // The name is checked before a password is asked for.
    if let UserCommand::Add { name, .. } = &command {
        users::check_name(name)?;
    }
    let catalog = users::open_catalog(data_dir)
        .with_context(|| format!("cannot open the catalog of {}", data_dir.display()))?;
    let catalog: &dyn Catalog = catalog.as_ref();
    let audited = audited(&command);
    match command {
        UserCommand::Add {
            name,
            role,
            password,
        } => {
            if catalog.user(&name)?.is_some() {
                return Err(users::UserError::Exists(name).into());
            }
            let password = password.read(&name)?;
            users::add_user(catalog, &name, &password, role.0, chrono::Utc::now())?;
            println!("Added user '{name}' ({}).", role_text(role.0));
        }
        UserCommand::Role { name, role } => {
            users::set_role(catalog, &name, role.0)?;
            println!("'{name}' now has {}.", role_text(role.0));
        }
        UserCommand::Passwd { name, password } => {
            if catalog.user(&name)?.is_none() {
                return Err(users::UserError::NotFound(name).into());
            }
            let password = password.read(&name)?;
            users::set_password(catalog, &name, &password, chrono::Utc::now())?;
            println!("Set the password of '{name}'.");
        }
        UserCommand::Disable { name } => {
            users::set_enabled(catalog, &name, false, chrono::Utc::now())?;
            println!("Disabled '{name}'.");
        }
        UserCommand::Enable { name } => {
            users::set_enabled(catalog, &name, true, chrono::Utc::now())?;
            println!("Enabled '{name}'.");
        }
        UserCommand::List => print_list(catalog)?,
    }
    if let Some((action, command, target)) = audited {
        users::record_command(catalog, action, &command, &target)
            .context("the change is made, but the audit trail could not record it")?;
    }
    Ok(())
}

/// What the audit trail records of a command that changes a user: its
/// action, the command line and the user (and role).
fn audited(command: &UserCommand) -> Option<(&'static str, String, String)> {
    let verb = command.verb();
    let (action, name, role) = match command {
        UserCommand::Add { name, role, .. } => ("UserAdd", name, Some(role)),
        UserCommand::Role { name, role } => ("UserRole", name, Some(role)),
        UserCommand::Passwd { name, .. } => ("UserPasswd", name, None),
        UserCommand::Disable { name } => ("UserDisable", name, None),
        UserCommand::Enable { name } => ("UserEnable", name, None),
        UserCommand::List => return None,
    };
    let target = match role {
        Some(role) => format!("user={name}; {}", role_text(role.0)),
        None => format!("user={name}"),
    };
    Some((action, format!("rdpm server user {verb} {name}"), target))
}

fn role_text(role: Option<BuiltinRole>) -> String {
    match role {
        Some(role) => format!("role {role}"),
        None => "no built-in role".to_string(),
    }
}

fn print_list(catalog: &dyn Catalog) -> Result<()> {
    let now = chrono::Utc::now();
    let rows: Vec<[String; 5]> = catalog
        .users()?
        .into_iter()
        .map(|u| {
            let locked = match u.locked_until {
                Some(until) if until > now => {
                    format!("until {}", until.format("%Y-%m-%d %H:%M:%S UTC"))
                }
                _ => "no".to_string(),
            };
            [
                u.name,
                u.role.map_or("None", BuiltinRole::as_str).to_string(),
                if u.enabled { "yes" } else { "no" }.to_string(),
                locked,
                u.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ]
        })
        .collect();
    let header = ["Name", "Role", "Enabled", "Locked", "Created"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let underline = widths.map(|w| "-".repeat(w));
    for row in std::iter::once(&header)
        .chain(std::iter::once(&underline))
        .chain(&rows)
    {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(())
}

impl PasswordSource {
    /// The new password: the first line of standard input, or asked
    /// twice on the terminal without echo.
    fn read(&self, name: &str) -> Result<String> {
        if self.password_stdin {
            return read_stdin_line();
        }
        let first = rpassword::prompt_password(format!("New password for '{name}': "))
            .map_err(|e| {
                anyhow!("cannot ask for the password on a terminal ({e}); pass --password-stdin and write it to standard input")
            })?;
        let second = rpassword::prompt_password("Type it again: ")
            .map_err(|e| anyhow!("cannot ask for the password on a terminal ({e})"))?;
        if first != second {
            bail!("the two passwords differ; nothing was changed");
        }
        Ok(first)
    }
}

/// The first line of standard input without its line ending, read no
/// further than a password can be long.
fn read_stdin_line() -> Result<String> {
    let limit = u64::try_from(MAX_PASSWORD_BYTES + 2).unwrap_or(u64::MAX);
    let mut line = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit)
        .read_until(b'\n', &mut line)
        .context("cannot read the password from standard input")?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    } else if line.len() > MAX_PASSWORD_BYTES {
        bail!("the password on standard input is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    String::from_utf8(line).map_err(|_| anyhow!("the password on standard input is not UTF-8"))
}
