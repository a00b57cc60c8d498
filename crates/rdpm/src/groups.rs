//! `rdpm server group ...`: the groups of users that recovery roles name
//! (`Add-DPMSecurityGroup`), kept in the data directory's catalog. These
//! commands work whether the server runs or not; a running server follows
//! a change within seconds.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rdpm_server::users::{self, Catalog, MembershipChange};

/// `rdpm server group`: make groups of users and put users in them.
#[derive(Debug, clap::Subcommand)]
pub enum GroupCommand {
    /// Makes a group
    Add {
        /// The group's name: letters, digits, spaces, '.', '-', '_', '@', '\'
        name: String,
    },
    /// Removes a group (its members lose the recovery roles it gave them)
    Remove {
        /// The group's name
        name: String,
    },
    /// Puts a user in a group
    AddMember {
        /// The group's name
        group: String,
        /// The user's name
        user: String,
    },
    /// Takes a user out of a group
    RemoveMember {
        /// The group's name
        group: String,
        /// The user's name
        user: String,
    },
    /// Lists the groups and their members
    List,
}

impl GroupCommand {
    fn verb(&self) -> &'static str {
        match self {
            GroupCommand::Add { .. } => "add",
            GroupCommand::Remove { .. } => "remove",
            GroupCommand::AddMember { .. } => "add-member",
            GroupCommand::RemoveMember { .. } => "remove-member",
            GroupCommand::List => "list",
        }
    }
}

/// Runs a group command on `data_dir`; returns the process exit code.
pub fn main(data_dir: &Path, command: GroupCommand) -> i32 {
    let verb = command.verb();
    match run(data_dir, command) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rdpm server group {verb}: {e:#}");
            1
        }
    }
}

fn run(data_dir: &Path, command: GroupCommand) -> Result<()> {
    if let GroupCommand::Add { name } = &command {
        users::check_group_name(name).map_err(anyhow::Error::msg)?;
    }
    let catalog = users::open_catalog(data_dir)
        .with_context(|| format!("cannot open the catalog of {}", data_dir.display()))?;
    let catalog: &dyn Catalog = catalog.as_ref();
    match command {
        GroupCommand::Add { name } => {
            if !catalog.add_group(&name, chrono::Utc::now())? {
                bail!("there is already a group '{name}' (group names compare without case)");
            }
            println!("Added group '{name}'.");
        }
        GroupCommand::Remove { name } => {
            if !catalog.remove_group(&name)? {
                bail!("there is no group '{name}'; 'rdpm server group list' lists them");
            }
            println!("Removed group '{name}'.");
        }
        GroupCommand::AddMember { group, user } => {
            match catalog.add_group_member(&group, &user)? {
                MembershipChange::Done => println!("'{user}' is a member of '{group}'."),
                MembershipChange::NoGroup => {
                    bail!("there is no group '{group}'; 'rdpm server group list' lists them")
                }
                MembershipChange::NoUser => {
                    bail!("there is no user '{user}'; 'rdpm server user list' lists them")
                }
            }
        }
        GroupCommand::RemoveMember { group, user } => {
            if !catalog.remove_group_member(&group, &user)? {
                bail!("'{user}' is not a member of a group '{group}'");
            }
            println!("'{user}' is no longer a member of '{group}'.");
        }
        GroupCommand::List => {
            let groups = catalog.groups()?;
            let width = groups
                .iter()
                .map(|g| g.name.chars().count())
                .max()
                .unwrap_or(0)
                .max("Name".len());
            println!("{:<width$}  Members", "Name");
            println!("{:<width$}  -------", "-".repeat(width));
            for group in groups {
                println!("{:<width$}  {}", group.name, group.members.join(", "));
            }
        }
    }
    Ok(())
}
