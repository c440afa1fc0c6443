DROP TABLE file_grants;
