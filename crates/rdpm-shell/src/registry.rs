//! The command table: names, aliases, lookup.

use std::collections::HashMap;
use std::rc::Rc;

use crate::command::Command;

/// Commands by name and alias (case-insensitive).
#[derive(Default, Clone)]
pub struct Registry {
    commands: Vec<Rc<dyn Command>>,
    by_name: HashMap<String, usize>,
    aliases: HashMap<String, usize>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a command and its aliases.
    pub fn add(&mut self, command: Rc<dyn Command>) {
        let index = self.commands.len();
        let sig = command.signature();
        self.by_name.insert(sig.name.to_lowercase(), index);
        for a in sig.aliases {
            self.aliases.insert(a.to_lowercase(), index);
        }
        self.commands.push(command);
    }

    /// Finds a command by name or alias (aliases first, as PowerShell's
    /// precedence says).
    pub fn get(&self, name: &str) -> Option<&Rc<dyn Command>> {
        let key = name.to_lowercase();
        self.aliases
            .get(&key)
            .or_else(|| self.by_name.get(&key))
            .map(|&i| &self.commands[i])
    }

    /// All commands, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &Rc<dyn Command>> {
        self.commands.iter()
    }

    /// Alias -> command name pairs.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases
            .iter()
            .map(|(a, &i)| (a.as_str(), self.commands[i].signature().name))
    }
}
