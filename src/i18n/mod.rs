//! The message catalogues: every text people read, one Fluent file per language
//! (`zh-CN.ftl`, the default, and `en.ftl`), compiled into the binary. Pages, route sheets,
//! calendars, messages and sheet headers take their words from here.
//!
//! Pure: no I/O beyond the catalogues embedded at compile time. A message missing from a
//! catalogue shows as its id (and the tests check that both catalogues hold the same ids).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

const ZH_CN: &str = include_str!("zh-CN.ftl");
const EN: &str = include_str!("en.ftl");

/// A language people read donornet in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    ZhCn,
    English,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::English];

    /// The BCP 47 tag (`zh-CN`, `en`), as in `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::English => "en",
        }
    }

    /// The language of a tag (`zh`, `zh-CN`, `zh-Hans-CN`, `en-GB`…), case aside.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::English),
            _ => None,
        }
    }

    /// The best language for an `Accept-Language` header: the highest-weighted tag we have
    /// (the first on a tie), else the default.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::default();
        };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_tag(tag)
                && weight > 0.0
                && best.is_none_or(|(w, _)| weight > w)
            {
                best = Some((weight, lang));
            }
        }
        best.map_or_else(Lang::default, |(_, lang)| lang)
    }

    /// The message `id`.
    pub fn t(self, id: &str) -> String {
        format(self, id, None)
    }

    /// The message `id` with one argument.
    pub fn t1<'a>(self, id: &str, name: &'a str, value: impl Into<FluentValue<'a>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name, value);
        format(self, id, Some(&args))
    }

    /// The message `id` with its arguments.
    pub fn tn<'a>(self, id: &str, args: &[(&'a str, FluentValue<'a>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        format(self, id, Some(&fluent))
    }
}

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
}

fn bundle(tag: &str, source: &'static str) -> Catalogue {
    let lang: LanguageIdentifier = tag.parse().expect("a valid language tag");
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("the {tag} catalogue does not parse: {errors:?}"));
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around arguments: the texts go into HTML, SMS and CSV.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("the {tag} catalogue repeats ids: {errors:?}"));
    Catalogue { bundle }
}

static CATALOGUES: LazyLock<[Catalogue; 2]> =
    LazyLock::new(|| [bundle("zh-CN", ZH_CN), bundle("en", EN)]);

fn format(lang: Lang, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    let catalogue = &CATALOGUES[lang as usize];
    let Some(pattern) = catalogue.bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut errors = Vec::new();
    let text = catalogue.bundle.format_pattern(pattern, args, &mut errors);
    text.into_owned()
}

/// The ids of a catalogue's messages, in file order (for the tests and tools).
pub fn ids(lang: Lang) -> Vec<String> {
    let source = match lang {
        Lang::ZhCn => ZH_CN,
        Lang::English => EN,
    };
    source
        .lines()
        .filter_map(|line| {
            let (id, _) = line.split_once(" =")?;
            let id = id.trim_end();
            (!id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !line.starts_with([' ', '#', '.', '-']))
            .then(|| id.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_catalogue_defines_an_id_twice() {
        for lang in Lang::ALL {
            let ids = ids(lang);
            let mut seen = std::collections::HashSet::new();
            let twice: Vec<_> = ids.iter().filter(|id| !seen.insert(*id)).collect();
            assert!(twice.is_empty(), "{} defines twice: {twice:?}", lang.tag());
        }
    }

    #[test]
    fn both_catalogues_hold_the_same_messages() {
        let zh = ids(Lang::ZhCn);
        let en = ids(Lang::English);
        let missing_en: Vec<_> = zh.iter().filter(|id| !en.contains(id)).collect();
        let missing_zh: Vec<_> = en.iter().filter(|id| !zh.contains(id)).collect();
        assert!(missing_en.is_empty(), "not in en.ftl: {missing_en:?}");
        assert!(missing_zh.is_empty(), "not in zh-CN.ftl: {missing_zh:?}");
        assert!(zh.len() > 20, "the catalogue was read: {} ids", zh.len());
    }

    #[test]
    fn every_message_formats_without_errors_in_both_languages() {
        for lang in Lang::ALL {
            let catalogue = &CATALOGUES[lang as usize];
            for id in ids(lang) {
                let message = catalogue.bundle.get_message(&id).expect("listed id");
                let Some(pattern) = message.value() else {
                    continue;
                };
                let mut errors = Vec::new();
                // Arguments missing on purpose: only syntax and references are checked.
                let _ = catalogue.bundle.format_pattern(pattern, None, &mut errors);
                let real: Vec<_> = errors
                    .iter()
                    .filter(|e| !format!("{e:?}").contains("Variable {"))
                    .collect();
                assert!(real.is_empty(), "{} {id}: {real:?}", lang.tag());
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_language_we_have() {
        for (header, want) in [
            (None, Lang::ZhCn),
            (Some("en-US,en;q=0.9"), Lang::English),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn),
            (Some("fr-FR, en;q=0.5, zh;q=0.7"), Lang::ZhCn),
            (Some("fr-FR, en;q=0.5"), Lang::English),
            (Some("fr-FR"), Lang::ZhCn),
            (Some("en;q=0"), Lang::ZhCn),
            (Some("zh-Hant-TW"), Lang::ZhCn),
        ] {
            assert_eq!(Lang::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn messages_take_their_arguments() {
        assert_eq!(Lang::English.t1("places-left", "count", 3), "3 places left");
        assert_eq!(Lang::ZhCn.t1("places-left", "count", 3), "剩余 3 个名额");
        assert_eq!(Lang::English.t1("places-left", "count", 1), "1 place left");
        assert_eq!(Lang::ZhCn.t("no-such-message-id"), "no-such-message-id");
    }
}
