//! The command table: names, aliases, lookup; and what the modules that
//! bring the commands register with them: the views of their objects and
//! their help texts.

use std::collections::HashMap;
use std::rc::Rc;

use crate::command::Command;
use crate::format::view::{View, ViewTable};

/// Commands by name and alias (case-insensitive), the views of the objects
/// they write, and their modules' help texts.
#[derive(Default, Clone)]
pub struct Registry {
    commands: Vec<Rc<dyn Command>>,
    by_name: HashMap<String, usize>,
    aliases: HashMap<String, usize>,
    views: Rc<ViewTable>,
    modules: Vec<ModuleInfo>,
}

/// What a module of commands registers about itself besides its commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The module name its commands' signatures carry
    /// ([`crate::Signature::module`]).
    pub name: &'static str,
    /// The `<CommonParameters>` sentence of the module's help files;
    /// `None` shows the engine's own paragraph.
    pub common_parameters_help: Option<&'static str>,
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

    /// Registers a view for objects whose `type_names` contain `type_name`
    /// (case-insensitive); see [`ViewTable::register`].
    pub fn register_view(&mut self, type_name: &str, view: View) {
        Rc::make_mut(&mut self.views).register(type_name, view);
    }

    /// Registers one view for several type names; see
    /// [`ViewTable::register_for`].
    pub fn register_view_for(&mut self, type_names: &[&str], view: View) {
        Rc::make_mut(&mut self.views).register_for(type_names, view);
    }

    /// Registers what a module says about itself (its help texts);
    /// registering a module of the same name again replaces it.
    pub fn add_module(&mut self, module: ModuleInfo) {
        match self
            .modules
            .iter_mut()
            .find(|m| m.name.eq_ignore_ascii_case(module.name))
        {
            Some(slot) => *slot = module,
            None => self.modules.push(module),
        }
    }

    /// The module registered under `name` (case-insensitive).
    pub fn module(&self, name: &str) -> Option<&ModuleInfo> {
        self.modules
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// The registered views, which the formatter reads.
    pub fn views(&self) -> &Rc<ViewTable> {
        &self.views
    }
}
