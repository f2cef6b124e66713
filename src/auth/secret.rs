//! Secrets: argon2id password hashes, random tokens, and the SHA-256 digests tokens are stored
//! as. Tokens carry 256 random bits, so a fast digest is enough to make a stolen table useless;
//! passwords are chosen by people, so they get a slow, salted, memory-hard hash.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest: argon2 takes any length, but there is no reason to hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Every API token starts with this, so that leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "dn_";

/// Why a password is refused for its length (a malformed value: 400).
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(format!(
            "must have at least {MIN_PASSWORD_CHARS} characters"
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!("must have at most {MAX_PASSWORD_BYTES} bytes"))
    } else {
        None
    }
}

/// Passwords of at least [`MIN_PASSWORD_CHARS`] characters found at the top of public
/// most-common-password lists, and a few this service invites (lower case). Guessing starts
/// with these, so the login throttle alone would not stop it.
const COMMON_PASSWORDS: &[&str] = &[
    "0000000001",
    "0123456789",
    "0987654321",
    "1111111111",
    "1122334455",
    "1234512345",
    "1234554321",
    "1234567890",
    "1234567890a",
    "1234567891",
    "12345678910",
    "1234567899",
    "123456789a",
    "123456789abc",
    "123456789q",
    "1314520520",
    "1314521521",
    "1472583690",
    "1q2w3e4r5t",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "1qazxsw23edc",
    "5201314520",
    "5211314521",
    "7894561230",
    "9876543210",
    "a123456789",
    "a1234567890",
    "aa12345678",
    "abc1234567",
    "abc123456789",
    "abcd123456",
    "abcd1234567",
    "abcdefghij",
    "admin12345",
    "admin123456",
    "admin@1234",
    "admin@12345",
    "administrator",
    "aini1314520",
    "asdfghjkl1",
    "asdfghjkl123",
    "changeme123",
    "demo-admin",
    "donornet123",
    "donornet1234",
    "donornet2026",
    "donornet2027",
    "dragon1234",
    "football123",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "monkey1234",
    "p@ssw0rd123",
    "passw0rd123",
    "password01",
    "password12",
    "password123",
    "password1234",
    "password12345",
    "princess123",
    "qaz123456789",
    "qazwsxedcrfv",
    "qq123456789",
    "qq1234567890",
    "qwe1234567",
    "qwe123456789",
    "qweasdzxc1",
    "qweasdzxc123",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "qwertyuiop",
    "qwertyuiop123",
    "root123456",
    "sunshine123",
    "wang123456",
    "welcome123",
    "welcome1234",
    "woaini123456",
    "woaini1314",
    "woaini5201314",
    "woshishui123",
    "xianxue123",
    "xianxue1234",
    "zaq12wsxcde3",
    "zhang123456",
    "zxcvbnm123",
];

/// Why a password of an acceptable length is still refused: it is easy to guess for someone
/// who knows the username, or for anyone (a common password, a run such as `2345678901`, or
/// fewer than 4 different characters). `None` when it is acceptable.
pub fn guessable(password: &str, username: &str) -> Option<&'static str> {
    let lower = password.trim().to_lowercase();
    let username = username.trim().to_lowercase();
    // The username with digits or symbols around it (`wang.fang2024!`) is the username too.
    let around = |rest: &str| rest.chars().all(|c| !c.is_alphabetic());
    let derived = !username.is_empty()
        && (lower == username
            || lower.strip_prefix(&username).is_some_and(around)
            || lower.strip_suffix(&username).is_some_and(around));
    if derived {
        return Some("must not be the username (nor the username with digits or symbols added)");
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Some("is one of the commonest passwords; choose another");
    }
    let chars: Vec<char> = lower.chars().collect();
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 4 {
        return Some("must use at least 4 different characters");
    }
    let step = |a: char, b: char| -> Option<i64> {
        match (a.to_digit(10), b.to_digit(10)) {
            // 9 then 0 continues a run of digits (`5678901234`).
            (Some(x), Some(y)) => Some((i64::from(y) - i64::from(x) + 15).rem_euclid(10) - 5),
            _ => Some(i64::from(u32::from(b)) - i64::from(u32::from(a))),
        }
    };
    let steps: Vec<Option<i64>> = chars.windows(2).map(|w| step(w[0], w[1])).collect();
    if steps.iter().all(|s| *s == Some(1)) || steps.iter().all(|s| *s == Some(-1)) {
        return Some("must not be a run of consecutive characters");
    }
    None
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`), with OWASP's
/// recommended parameters (the crate's defaults). Slow on purpose: call it off the async
/// runtime (`spawn_blocking`).
///
/// # Errors
/// The system's random source fails.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// True when `password` matches `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time a real verification takes, so that a login for an unknown user answers no
/// faster than one with a wrong password.
pub fn verify_against_nothing(password: &str) {
    static DECOY: LazyLock<String> = LazyLock::new(|| {
        hash_password("decoy password, never matches").expect("hashing the decoy password")
    });
    let _ = verify_password(&DECOY, password);
}

/// 32 random bytes as 64 hex digits.
///
/// # Errors
/// The system's random source fails.
pub fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("random source: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Whether `text` has the form of [`random_hex`]'s output (64 hex digits), so a link's token
/// that cannot be one is refused before any lookup.
pub fn is_random_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new API token: `dn_` and 64 hex digits.
///
/// # Errors
/// The system's random source fails.
pub fn new_api_token() -> anyhow::Result<String> {
    Ok(format!("{TOKEN_PREFIX}{}", random_hex()?))
}

/// The hex SHA-256 of a token, as stored.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        // Salted: the same password hashes differently each time.
        assert_ne!(hash, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn tokens_are_random_and_digested() {
        let a = new_api_token().unwrap();
        let b = new_api_token().unwrap();
        assert!(a.starts_with("dn_") && a.len() == 67, "{a}");
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }

    #[test]
    fn a_link_token_has_the_form_of_random_hex_only() {
        let token = random_hex().unwrap();
        assert!(is_random_hex(&token), "{token}");
        assert!(is_random_hex(&token.to_uppercase()));
        assert!(!is_random_hex(&token[..63]));
        assert!(!is_random_hex(&format!("{token}0")));
        assert!(!is_random_hex(&format!("{}g", &token[..63])));
        assert!(!is_random_hex(""));
    }

    #[test]
    fn the_token_digest_is_hex_sha256() {
        // FIPS 180-2's known answers for SHA-256 ("abc" is its appendix B.1 example).
        assert_eq!(
            digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // A token-shaped input (the answer from coreutils' `sha256sum`).
        assert_eq!(
            digest(&format!("{TOKEN_PREFIX}{}", "0".repeat(64))),
            "545a30adff133b9debc618447317f68ada6448983cdb024ff7c09bfade83731b"
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough pass").is_none());
        assert!(password_problem(&"x".repeat(2000)).is_some());
    }

    #[test]
    fn guessable_passwords_are_refused_and_others_pass() {
        for (password, username) in [
            ("1234567890", "wang.fang"),
            ("QwertyUiop", "wang.fang"),
            ("wang.fang.", "wang.fang"),
            ("Wang.Fang", "wang.fang"),
            ("wang.fang2024!", "wang.fang"),
            ("2024wang.fang", "wang.fang"),
            ("demo-admin", "chief"),
            ("aaaaaaaaaaaa", "chief"),
            ("ababababab", "chief"),
            ("2345678901", "chief"),
            ("8765432109", "chief"),
            ("klmnopqrst", "chief"),
            ("woaini1314", "chief"),
        ] {
            assert!(
                guessable(password, username).is_some(),
                "{password:?} for {username:?} was accepted"
            );
        }
        for (password, username) in [
            ("chief's first password", "chief"),
            ("wang.fang's long phrase", "wang.fang"),
            ("correct horse battery", "li.na"),
            ("1234567890x", "li.na"),
            ("13579246801", "li.na"),
        ] {
            assert_eq!(
                guessable(password, username),
                None,
                "{password:?} for {username:?} was refused"
            );
        }
    }

    #[test]
    fn the_common_list_is_lower_case_sorted_and_long_enough_to_matter() {
        for pair in COMMON_PASSWORDS.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        for p in COMMON_PASSWORDS {
            assert_eq!(*p, p.to_lowercase());
            assert!(
                password_problem(p).is_none(),
                "{p} is refused by its length anyway"
            );
        }
    }

    #[test]
    fn secrets_compare_by_value() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
