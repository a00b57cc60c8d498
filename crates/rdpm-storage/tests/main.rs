//! Integration tests of the storage engine against real repositories in
//! temporary directories.

mod support;

mod backup;
mod browse;
mod crash;
mod locks;
mod maintenance;
mod remote;
mod repository;
mod restic;
mod restore;
mod unchanged;
mod verify;
