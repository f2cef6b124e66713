//! Integration tests: the real router over a fresh database per test, SQLite always and
//! PostgreSQL when `TEST_DATABASE_URL` is set. One binary, so it links once.

mod helpers;

mod access;
mod accounts;
mod appeals;
mod bookings;
mod browser;
mod checklists;
mod cli;
mod coordinators;
mod coverage;
mod demo;
mod docs;
mod drive_day;
mod drives;
mod fleet;
mod groupdrives;
mod health;
mod hosts;
mod import;
mod inventory;
mod page_client;
mod pages;
mod pages_appeals;
mod pages_hosts;
mod pages_official;
mod pages_recruitment;
mod pages_station_admin;
mod pages_station_checkin;
mod pages_station_drives;
mod pages_station_forecast;
mod pages_station_network;
mod pages_station_planner;
mod pages_station_results;
mod pages_station_roster;
mod pages_surveys;
mod plans;
mod points;
mod recruitment;
mod regions;
mod results;
mod scope;
mod surveys;
mod talks;
mod weights;
