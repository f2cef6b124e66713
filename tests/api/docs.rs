use crate::helpers::on_each_backend;

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_schema() {
    on_each_backend(|app| async move {
        let doc = app.get_ok("/openapi.json").await;
        let paths = doc["paths"].as_object().expect("paths");
        for (path, method) in [
            ("/health", "get"),
            ("/api/v1/regions", "get"),
            ("/api/v1/regions/{code}", "get"),
            ("/api/v1/hosts", "get"),
            ("/api/v1/hosts", "post"),
            ("/api/v1/hosts/{id}", "get"),
            ("/api/v1/hosts/{id}", "patch"),
            ("/api/v1/hosts/{id}/contacts", "get"),
            ("/api/v1/hosts/{id}/contacts", "post"),
            ("/api/v1/hosts/{id}/contacts/{contact_id}", "delete"),
            ("/api/v1/talks", "get"),
            ("/api/v1/talks", "post"),
            ("/api/v1/talks/{id}", "delete"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-goal", "put"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-link", "post"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-link", "delete"),
            ("/api/v1/public/signups/{token}", "get"),
            ("/api/v1/stations/{id}/appeal-template", "get"),
            ("/api/v1/stations/{id}/appeal-template", "put"),
            ("/api/v1/appeals", "get"),
            ("/api/v1/appeals", "post"),
            ("/api/v1/appeals/{id}", "get"),
            ("/api/v1/appeals/{id}/text", "get"),
            ("/api/v1/appeals/{id}/qr.svg", "get"),
            ("/api/v1/appeals/{id}/qr.png", "get"),
            ("/api/v1/appeals/{id}/send", "post"),
            ("/api/v1/appeals/{id}/figures", "get"),
            ("/api/v1/chat-groups", "get"),
            ("/api/v1/chat-groups", "post"),
            ("/api/v1/chat-groups/{id}", "delete"),
        ] {
            assert!(
                paths.get(path).and_then(|p| p.get(method)).is_some(),
                "{method} {path} missing"
            );
        }
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for schema in [
            "Health",
            "RegionPage",
            "RegionSummary",
            "RegionDetail",
            "Problem",
            "Level",
            "HostView",
            "HostPage",
            "HostKind",
            "HostContactView",
            "TalkView",
            "SignupStopView",
            "SignupLinkView",
            "PublicSignupView",
            "TalkPage",
            "CreateTalk",
            "AppealView",
            "Template",
            "Figures",
            "GroupView",
            "SendBody",
        ] {
            assert!(schemas.contains_key(schema), "schema {schema} missing");
        }
        // Parameters carry the constraints the service enforces.
        let list_params = doc["paths"]["/api/v1/regions"]["get"]["parameters"]
            .as_array()
            .unwrap();
        let param = |name: &str| {
            list_params
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(param("limit")["schema"]["minimum"], 1);
        assert_eq!(param("limit")["schema"]["maximum"], 500);
        assert_eq!(param("parent")["schema"]["pattern"], "^[0-9]{12}$");
        let code = &doc["paths"]["/api/v1/regions/{code}"]["get"]["parameters"][0];
        assert_eq!(code["name"], "code");
        assert_eq!(code["in"], "path");
        assert_eq!(code["schema"]["pattern"], "^[0-9]{12}$");
        // Each response names its own schema (no two Rust types sharing one name).
        let summary_ref = doc["paths"]["/api/v1/regions/{code}/summary"]["get"]["responses"]["200"]
            ["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            schemas[&summary_ref]["properties"]
                .get("coverage")
                .is_some(),
            "{summary_ref}"
        );
        let listing_item = &schemas["RegionSummary"]["properties"];
        assert!(listing_item.get("parent_code").is_some());
        // Every $ref points at a schema that exists.
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        app
    })
    .await;
}

#[tokio::test]
async fn every_operation_declares_how_to_authenticate() {
    on_each_backend(|app| async move {
        let doc = app.get_ok("/openapi.json").await;
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["token"]["type"], "http");
        assert_eq!(schemes["token"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["type"], "apiKey");
        assert_eq!(schemes["session"]["in"], "cookie");
        assert_eq!(schemes["session"]["name"], "donornet_session");
        let public = [
            ("/health", "get"),
            ("/api/v1/auth/login", "post"),
            ("/api/v1/points", "get"),
            ("/api/v1/points/{id}", "get"),
        ];
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let security = operation["security"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{method} {path} declares no security"));
                let names: Vec<String> = security
                    .iter()
                    .map(|r| {
                        r.as_object()
                            .unwrap()
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join("+")
                    })
                    .collect();
                let anonymous_ok = names.iter().any(String::is_empty);
                assert_eq!(
                    anonymous_ok,
                    public.contains(&(path.as_str(), method.as_str()))
                        || path.starts_with("/api/v1/public/")
                        || path == "/api/v1/points.geojson"
                        || path == "/api/v1/auth/logout",
                    "{method} {path}: {names:?}"
                );
                assert!(
                    names.contains(&"token".to_owned()) && names.contains(&"session".to_owned()),
                    "{method} {path}"
                );
                operations += 1;
            }
        }
        assert!(operations > 25, "{operations}");
        // Protected operations document 401, and writes 403.
        for (path, method) in [
            ("/api/v1/coordinators", "get"),
            ("/api/v1/points", "post"),
            ("/api/v1/regions/{code}", "patch"),
            ("/api/v1/stations", "get"),
            ("/api/v1/stations", "post"),
            ("/api/v1/vehicles/{id}", "patch"),
            ("/api/v1/vehicles/{id}", "delete"),
            ("/api/v1/drives", "get"),
            ("/api/v1/drives", "post"),
            ("/api/v1/drives/{id}/transition", "post"),
            ("/api/v1/plans/{id}/accept", "post"),
            ("/api/v1/hosts", "get"),
            ("/api/v1/hosts", "post"),
            ("/api/v1/hosts/{id}", "patch"),
            ("/api/v1/hosts/{id}/contacts", "post"),
            ("/api/v1/hosts/{id}/contacts/{contact_id}", "delete"),
            ("/api/v1/talks", "get"),
            ("/api/v1/talks", "post"),
            ("/api/v1/talks/{id}", "delete"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-goal", "put"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-link", "post"),
            ("/api/v1/drives/{id}/stops/{stop_id}/signup-link", "delete"),
        ] {
            let responses = &doc["paths"][path][method]["responses"];
            assert!(responses.get("401").is_some(), "{method} {path}");
            if method != "get" {
                assert!(responses.get("403").is_some(), "{method} {path}");
            }
        }
        assert!(
            doc["paths"]["/health"]["get"]["responses"]
                .get("401")
                .is_none()
        );
        // Writes are never public.
        assert_eq!(
            doc["paths"]["/api/v1/points"]["post"]["security"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        app
    })
    .await;
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary_without_a_cdn() {
    on_each_backend(|app| async move {
        let html = app.client.get(app.url("/docs/")).send().await.unwrap();
        assert_eq!(html.status().as_u16(), 200);
        let html = html.text().await.unwrap();
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(
            !html.contains("src=\"http"),
            "the page loads a script from elsewhere"
        );
        assert!(
            !html.contains("href=\"http"),
            "the page loads a stylesheet from elsewhere"
        );
        for asset in [
            "/docs/swagger-ui-bundle.js",
            "/docs/swagger-ui.css",
            "/docs/swagger-initializer.js",
        ] {
            let response = app.client.get(app.url(asset)).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{asset}");
        }
        let init = app
            .client
            .get(app.url("/docs/swagger-initializer.js"))
            .send()
            .await
            .unwrap();
        assert!(init.text().await.unwrap().contains("/openapi.json"));
        app
    })
    .await;
}
