namespace DataSync.TestRig.Workloads;

/// <summary>
/// Tables with the types of the extension isn, which have no binary send and receive functions (their values travel as
/// text): every isn type, arrays of them (NULL elements, several dimensions, lower bounds other than 1), a domain and an
/// array of it, values entered with a wrong check digit (kept with their flag, under isn.weak or with a trailing <c>!</c>),
/// issn numbers with issue digits (which issn's own output leaves out), the extremes, and a column added with a default
/// after rows existed. <see cref="KeyedName"/> has an isn primary key. The decoder's differential test and the daemon's
/// acceptance test share them.
/// </summary>
public static class IsnTable
{
    public const string Name = "isn_values";

    /// <summary>A table whose primary key is an isbn13.</summary>
    public const string KeyedName = "isn_keyed";

    /// <summary>The extension, domain and tables (no rows). Run on production and, followed by <see cref="Alter"/>, on the local database.</summary>
    public const string Ddl = """
        CREATE EXTENSION IF NOT EXISTS isn;
        CREATE DOMAIN book_number AS isbn13 CHECK (VALUE::text <> '');
        CREATE TABLE isn_values (
            id int4 PRIMARY KEY,
            e ean13, b13 isbn13, m13 ismn13, s13 issn13, b isbn, m ismn, s issn, u upc,
            d book_number, a isbn13[], ad book_number[], ae ean13[], note text
        );
        CREATE TABLE isn_keyed (code isbn13 PRIMARY KEY, title text, serial issn);
        """;

    /// <summary>
    /// 1 all NULL; 2 valid values in each type's input forms (ISBN-10 with X, ISMN with M, ISSN-8, UPC-12, hyphens);
    /// 3 values entered with a wrong check digit, flagged; 4 issue digits and the extremes; 5 empty arrays.
    /// </summary>
    public const string DataBefore = """
        INSERT INTO isn_values (id) VALUES (1);
        INSERT INTO isn_values VALUES (2, '978-0-393-04002-9', '9780123456786', '9790123456785', '9771234567898', '123456789X', 'M-1234-5678-5',
            '1234-5679', '012345678905', '9791234567896', ARRAY['9780123456786', '9791234567896', NULL]::isbn13[],
            ARRAY['978-0-393-04002-9']::book_number[], ARRAY['5901234123457', '4006381333931']::ean13[], 'valid');
        SET isn.weak TO true;
        INSERT INTO isn_values VALUES (3, '2222222222221', '9780123456780', '9790123456780!', '12345670', '1234567890', 'M123456780',
            '9771234567003!', '0123456789010', '9791234567890', '[0:1][2:3]={{9780123456786,9791234567896!},{NULL,9780123456780}}',
            ARRAY['9780393040021', NULL]::book_number[], ARRAY['0000000000000!', '9999999999994!']::ean13[], 'flagged');
        RESET isn.weak;
        INSERT INTO isn_values VALUES (4, '9999999999994', '9799999999990', '9790999999997', '9779999999992', '9780000000002', '9790000000001',
            '9771234567898', '0999999999993', '9791000000008', ARRAY[ARRAY['9780000000002'], ARRAY['9799999999990']]::isbn13[],
            ARRAY['9780000000002']::book_number[], ARRAY['0000000000000']::ean13[], 'issue digits and extremes');
        INSERT INTO isn_values (id, a, ad, ae) VALUES (5, '{}', '{}', '{}');
        INSERT INTO isn_keyed VALUES ('9780393040029', 'one', '12345679'), ('9791234567896', 'two', '9771234567898'), ('9780123456786!', 'flagged', NULL);
        """;

    /// <summary>A column added with a default after rows existed: those rows take the default without storing it.</summary>
    public const string Alter = """
        ALTER TABLE isn_values ADD COLUMN late isbn13 DEFAULT '9783161484100';
        """;

    public const string DataAfter = """
        INSERT INTO isn_values (id, late, note) VALUES (6, '9791234567896', 'after the column was added'), (7, NULL, 'late NULL');
        """;

    /// <summary>Before and after the column is added, in order.</summary>
    public const string Data = DataBefore + Alter + DataAfter;

    /// <summary>
    /// <see cref="Name"/> with every isn value cast to ean13, whose output prints all 13 digits and the wrong-check-digit
    /// flag: compared as text, its rows are equal only when the stored values are (issn's and upc's own output omits the
    /// flag, issn's the issue digits too).
    /// </summary>
    public const string ExactView = """
        CREATE VIEW isn_values_exact AS
        SELECT id, e, b13::ean13, m13::ean13, s13::ean13, b::ean13, m::ean13, s::ean13, u::ean13, d::ean13, a::ean13[], ad::ean13[], ae,
               note, late::ean13
        FROM isn_values;
        CREATE VIEW isn_keyed_exact AS SELECT code::ean13, title, serial::ean13 FROM isn_keyed;
        """;
}
