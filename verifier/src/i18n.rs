//! The employer page's words in English and Ukrainian, and how the language is chosen.
//!
//! The language comes from `?lang=` (or the form's `lang` field) first, then the
//! `Accept-Language` header, then English. Check messages come from the core in English
//! and are shown as they are; check names and everything else are translated here.

use bem_core::verify::{Status, Verdict};

use crate::page::qr_image::QrError;

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Uk,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Uk => "uk",
        }
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_', ';']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "uk" | "ua" => Some(Lang::Uk),
            _ => None,
        }
    }

    /// The explicit choice if it names a language we have, else the first of
    /// `Accept-Language` we have (in the order given), else English.
    pub fn choose(explicit: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = explicit.and_then(Lang::from_tag) {
            return lang;
        }
        accept_language
            .and_then(|header| header.split(',').filter(|t| !refused(t)).find_map(Lang::from_tag))
            .unwrap_or(Lang::En)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Uk => &UK,
        }
    }
}

/// An `Accept-Language` item with `q=0` ("not this language").
fn refused(item: &str) -> bool {
    item.split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("q="))
        .any(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
}

/// Every fixed text of the page.
pub struct Texts {
    pub page_title: &'static str,
    pub intro: &'static str,
    pub paste_label: &'static str,
    pub paste_hint: &'static str,
    pub upload_label: &'static str,
    pub link_label: &'static str,
    pub link_hint: &'static str,
    pub verify_button: &'static str,
    pub open_button: &'static str,
    pub another: &'static str,
    pub learner: &'static str,
    pub title: &'static str,
    pub issuer: &'static str,
    pub date: &'static str,
    pub valid_until: &'static str,
    pub eqf: &'static str,
    pub nqf: &'static str,
    pub workload: &'static str,
    pub outcomes: &'static str,
    pub checks: &'static str,
    pub unconfirmed: &'static str,
    pub could_not_check: &'static str,
    pub hours: &'static str,
    pub language: &'static str,
    pub issuer_unlisted: &'static str,
    /// Said under every certificate shown: holding it does not make one its learner.
    pub holder_not_shown: &'static str,
    pub qr_label: &'static str,
    pub qr_hint: &'static str,
    pub qr_choose: &'static str,
    pub upload_too_large: &'static str,
    pub scan_button: &'static str,
    pub scan_stop: &'static str,
    pub camera_view: &'static str,
    pub scan_starting: &'static str,
    pub scan_looking: &'static str,
    pub scan_found: &'static str,
    pub scan_denied: &'static str,
    pub scan_not_certificate: &'static str,
    pub scan_stopped: &'static str,
}

pub static EN: Texts = Texts {
    page_title: "Verify a micro-credential",
    intro: "Check that a micro-credential certificate is genuine, current and from a trusted issuer. Paste the certificate, upload its file, open its link, or read its QR code.",
    paste_label: "Paste the certificate (JSON)",
    paste_hint: "The text of the credential file, starting with {",
    upload_label: "Or upload the certificate file",
    link_label: "Or open a certificate link",
    link_hint: "An https link from the certificate or its QR code",
    verify_button: "Verify",
    open_button: "Open and verify",
    another: "Verify another certificate",
    learner: "Learner",
    title: "Micro-credential",
    issuer: "Issued by",
    date: "Date awarded",
    valid_until: "Valid until",
    eqf: "EQF level",
    nqf: "National framework level",
    workload: "Workload",
    outcomes: "Learning outcomes",
    checks: "What was checked",
    unconfirmed: "The certificate's content is not shown because it could not be confirmed.",
    could_not_check: "The certificate could not be checked",
    hours: "hours",
    language: "Language",
    issuer_unlisted: "name given by the certificate itself; this issuer is not on the trust list",
    holder_not_shown: "This shows that the certificate is genuine, not that the person who gave it to you is the learner it names: anyone can copy a certificate. Ask for a presentation signed with the learner's own key, or check their identity.",
    qr_label: "Or upload a photo or screenshot of its QR code",
    qr_hint: "A PNG or JPEG image of at most 4 MB. On a phone this can take the photo.",
    qr_choose: "Choose a photo or screenshot of the QR code first.",
    upload_too_large: "The file is too large (at most 4 MB).",
    scan_button: "Scan the QR code with the camera",
    scan_stop: "Stop the camera",
    camera_view: "Camera view",
    scan_starting: "Starting the camera…",
    scan_looking: "Point the camera at the certificate's QR code.",
    scan_found: "QR code found. Opening the certificate…",
    scan_denied: "The camera could not be opened. Allow camera access, or upload a photo of the QR code instead.",
    scan_not_certificate: "This QR code is not a certificate link. Still looking…",
    scan_stopped: "Camera stopped.",
};

pub static UK: Texts = Texts {
    page_title: "Перевірка мікрокваліфікації",
    intro: "Перевірте, що сертифікат мікрокваліфікації справжній, чинний і виданий довіреною установою. Вставте сертифікат, завантажте його файл, відкрийте посилання або зчитайте QR-код.",
    paste_label: "Вставте сертифікат (JSON)",
    paste_hint: "Текст файлу сертифіката, що починається з {",
    upload_label: "Або завантажте файл сертифіката",
    link_label: "Або відкрийте посилання на сертифікат",
    link_hint: "Посилання https із сертифіката або його QR-коду",
    verify_button: "Перевірити",
    open_button: "Відкрити й перевірити",
    another: "Перевірити інший сертифікат",
    learner: "Слухач",
    title: "Мікрокваліфікація",
    issuer: "Видано",
    date: "Дата присвоєння",
    valid_until: "Чинний до",
    eqf: "Рівень EQF",
    nqf: "Рівень національної рамки кваліфікацій",
    workload: "Обсяг навчання",
    outcomes: "Результати навчання",
    checks: "Що перевірено",
    unconfirmed: "Зміст сертифіката не показано, бо його не вдалося підтвердити.",
    could_not_check: "Сертифікат не вдалося перевірити",
    hours: "год",
    language: "Мова",
    issuer_unlisted: "назва, яку вказує сам сертифікат; цього видавця немає в переліку довірених",
    holder_not_shown: "Це підтверджує, що сертифікат справжній, але не те, що особа, яка його надала, і є названим у ньому здобувачем: сертифікат може скопіювати будь-хто. Попросіть пред'явлення, підписане власним ключем здобувача, або перевірте особу.",
    qr_label: "Або завантажте фото чи знімок екрана його QR-коду",
    qr_hint: "Зображення PNG або JPEG до 4 МБ. На телефоні можна одразу сфотографувати.",
    qr_choose: "Спочатку виберіть фото або знімок екрана QR-коду.",
    upload_too_large: "Файл завеликий (не більше 4 МБ).",
    scan_button: "Сканувати QR-код камерою",
    scan_stop: "Вимкнути камеру",
    camera_view: "Зображення з камери",
    scan_starting: "Вмикаємо камеру…",
    scan_looking: "Наведіть камеру на QR-код сертифіката.",
    scan_found: "QR-код знайдено. Відкриваємо сертифікат…",
    scan_denied: "Не вдалося відкрити камеру. Дозвольте доступ до камери або завантажте фото QR-коду.",
    scan_not_certificate: "Цей QR-код не є посиланням на сертифікат. Шукаємо далі…",
    scan_stopped: "Камеру вимкнено.",
};

/// The verdict's headline and explanation.
pub fn verdict(lang: Lang, verdict: Verdict) -> (&'static str, &'static str) {
    match (lang, verdict) {
        (Lang::En, Verdict::Valid) => ("Valid", "Genuine, current, not revoked, and issued by a trusted issuer."),
        (Lang::En, Verdict::UnknownIssuer) => (
            "Unknown issuer",
            "The signature is genuine, but the issuer is not on this verifier's list of trusted issuers. Check who the issuer is before relying on it.",
        ),
        (Lang::En, Verdict::Revoked) => ("Revoked", "The issuer has revoked this certificate. It is no longer valid."),
        (Lang::En, Verdict::Suspended) => ("Suspended", "The issuer has suspended this certificate for now."),
        (Lang::En, Verdict::Expired) => ("Expired", "The certificate's validity period has ended."),
        (Lang::En, Verdict::NotYetValid) => ("Not yet valid", "The certificate's validity period has not started."),
        (Lang::En, Verdict::StatusUnknown) => (
            "Status unknown",
            "The signature is genuine, but whether the certificate has been revoked could not be checked.",
        ),
        (Lang::En, Verdict::NotGenuine) => (
            "Not genuine",
            "This certificate is not genuine: it was changed after it was issued, is malformed, or was not signed by its issuer.",
        ),
        (Lang::En, Verdict::WrongHolder) => (
            "Not presented by the learner",
            "The certificate names its learner by a digital identifier, and the person who presented it is not that learner.",
        ),
        (Lang::En, Verdict::NoCredential) => (
            "Nothing presented",
            "The presentation holds no certificate: there is nothing to rely on.",
        ),
        (Lang::Uk, Verdict::Valid) => ("Дійсний", "Справжній, чинний, не відкликаний і виданий довіреною установою."),
        (Lang::Uk, Verdict::UnknownIssuer) => (
            "Невідомий видавець",
            "Підпис справжній, але видавця немає в переліку довірених установ цього сервісу. Перш ніж покладатися на сертифікат, з'ясуйте, хто його видав.",
        ),
        (Lang::Uk, Verdict::Revoked) => ("Відкликаний", "Видавець відкликав цей сертифікат. Він більше не чинний."),
        (Lang::Uk, Verdict::Suspended) => ("Призупинений", "Видавець тимчасово призупинив дію цього сертифіката."),
        (Lang::Uk, Verdict::Expired) => ("Термін дії минув", "Строк чинності сертифіката закінчився."),
        (Lang::Uk, Verdict::NotYetValid) => ("Ще не чинний", "Строк чинності сертифіката ще не почався."),
        (Lang::Uk, Verdict::StatusUnknown) => (
            "Статус невідомий",
            "Підпис справжній, але не вдалося перевірити, чи сертифікат не відкликано.",
        ),
        (Lang::Uk, Verdict::WrongHolder) => (
            "Пред'явив не здобувач",
            "Сертифікат називає здобувача цифровим ідентифікатором, а пред'явила його інша особа.",
        ),
        (Lang::Uk, Verdict::NoCredential) => (
            "Нічого не пред'явлено",
            "Пред'явлення не містить жодного сертифіката: немає на що покластися.",
        ),
        (Lang::Uk, Verdict::NotGenuine) => (
            "Не справжній",
            "Цей сертифікат не справжній: його змінено після видачі, він пошкоджений або підписаний не видавцем.",
        ),
    }
}

/// Why a QR code image gave no certificate, for people.
pub fn qr_error(lang: Lang, error: QrError) -> &'static str {
    match (lang, error) {
        (Lang::En, QrError::TooLarge) => {
            "The image is too large: send a photo or screenshot of at most 4 MB."
        }
        (Lang::En, QrError::TooManyPixels) => "The image is too large to read: at most 4096 × 4096 pixels, and a progressive JPEG of about 8 megapixels at most. A crop around the code, a PNG or an ordinary JPEG works.",
        (Lang::En, QrError::NotAnImage) => {
            "This file is not a PNG or JPEG image. Upload a photo or screenshot of the QR code."
        }
        (Lang::En, QrError::Damaged) => "The image could not be opened; it may be damaged.",
        (Lang::En, QrError::NoCode) => {
            "No QR code was found in the image. Take a sharp photo with the whole QR code in view."
        }
        (Lang::En, QrError::Unreadable) => {
            "A QR code was found but could not be read. Take a sharper photo, closer to the code."
        }
        (Lang::En, QrError::TooComplex) => {
            "The image is too busy to find a QR code in. Take a photo of just the QR code."
        }
        (Lang::En, QrError::NotCertificate) => {
            "This QR code holds neither a certificate link nor a certificate."
        }
        (Lang::Uk, QrError::TooLarge) => "Зображення завелике: надішліть фото або знімок екрана до 4 МБ.",
        (Lang::Uk, QrError::TooManyPixels) => "Зображення завелике для читання: не більше 4096 × 4096 пікселів, а прогресивний JPEG — не більше приблизно 8 мегапікселів. Підійде фрагмент навколо коду, PNG або звичайний JPEG.",
        (Lang::Uk, QrError::NotAnImage) => {
            "Цей файл не є зображенням PNG або JPEG. Завантажте фото або знімок екрана QR-коду."
        }
        (Lang::Uk, QrError::Damaged) => "Не вдалося відкрити зображення; можливо, воно пошкоджене.",
        (Lang::Uk, QrError::NoCode) => {
            "На зображенні не знайдено QR-коду. Зробіть чітке фото, на якому видно весь QR-код."
        }
        (Lang::Uk, QrError::Unreadable) => {
            "QR-код знайдено, але не вдалося прочитати. Зробіть чіткіше фото ближче до коду."
        }
        (Lang::Uk, QrError::TooComplex) => {
            "На зображенні забагато деталей, щоб знайти QR-код. Сфотографуйте лише QR-код."
        }
        (Lang::Uk, QrError::NotCertificate) => {
            "Цей QR-код не містить ні посилання на сертифікат, ні самого сертифіката."
        }
    }
}

/// A check's name for people.
pub fn check_name(lang: Lang, name: &str) -> String {
    let (en, uk) = match name {
        "parse" => ("Readable", "Формат"),
        "model" => ("Structure", "Структура"),
        "proof" => ("Signature", "Підпис"),
        "issuer" => ("Issuer signed it", "Підписав видавець"),
        "context" => ("Vocabulary", "Словник"),
        "validity" => ("Validity period", "Строк чинності"),
        "status" => ("Revocation status", "Статус відкликання"),
        "schema" => ("Schema", "Схема"),
        "trust" => ("Trusted issuer", "Довірений видавець"),
        "holder" => ("Holder", "Власник"),
        "presenter" => ("Presented by the learner", "Пред'явив здобувач"),
        "credential" => ("Credential", "Сертифікат"),
        other => (other, other),
    };
    match lang {
        Lang::En => en.to_owned(),
        Lang::Uk => uk.to_owned(),
    }
}

/// A check status for people.
pub fn status_word(lang: Lang, status: Status) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::Ok) => "passed",
        (Lang::En, Status::Failed) => "failed",
        (Lang::En, Status::Skipped) => "not checked",
        (Lang::En, Status::Warning) => "warning",
        (Lang::Uk, Status::Ok) => "пройдено",
        (Lang::Uk, Status::Failed) => "не пройдено",
        (Lang::Uk, Status::Skipped) => "не перевірено",
        (Lang::Uk, Status::Warning) => "увага",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_is_chosen_by_query_then_header() {
        assert_eq!(Lang::choose(Some("uk"), Some("en")), Lang::Uk);
        assert_eq!(Lang::choose(Some("xx"), Some("de-DE, uk-UA;q=0.8, en;q=0.5")), Lang::Uk);
        assert_eq!(Lang::choose(None, Some("uk;q=0, en")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }
}
